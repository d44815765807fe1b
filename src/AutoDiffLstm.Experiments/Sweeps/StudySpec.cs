using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// A study file: the options every run shares, optional cases (groups of options that go together, such as a task and
/// its length), a grid (every combination), a random search (settings drawn from distributions) and the seeds each
/// setting is run with. Option names are those of the swept command (<c>adl train</c> or <c>adl gradflow</c>) without
/// the dashes ("seq-len", "lr").
/// </summary>
/// <remarks>
/// A run is one case x one grid point x one random sample x one seed. The random samples are drawn once per case and
/// shared by every grid point of that case, so grid points (for example the cell variants) are compared on the same
/// settings. See studies/README.md for the format.
/// </remarks>
public sealed record StudySpec
{
    /// <summary>The study's name (the file name without extension when the file has none).</summary>
    public required string Name { get; init; }
    /// <summary>The command every run executes: "train" (the default) or "gradflow" (see <see cref="SweptCommand.All"/>).</summary>
    public string Command { get; init; } = "train";
    /// <summary>Options set for every run.</summary>
    public IReadOnlyList<StudyField> Fixed { get; init; } = [];
    /// <summary>Groups of options that go together; a study without cases has one empty case.</summary>
    public IReadOnlyList<IReadOnlyList<StudyField>> Cases { get; init; } = [[]];
    /// <summary>Options whose values are all combined with each other.</summary>
    public IReadOnlyList<(string Option, IReadOnlyList<object> Values)> Grid { get; init; } = [];
    /// <summary>Random settings drawn per case (zero samples: no random search).</summary>
    public int Samples { get; init; }
    /// <summary>Seed of the draws of the random search.</summary>
    public ulong SamplerSeed { get; init; } = 1;
    /// <summary>The options of the random search and their distributions.</summary>
    public IReadOnlyList<(string Option, Distribution Distribution)> Space { get; init; } = [];
    /// <summary>The seeds each setting is trained with (the runs' --seed).</summary>
    public IReadOnlyList<ulong> Seeds { get; init; } = [1];
    /// <summary>Write each run's checkpoint every this many steps (0: every tenth of the run), so a killed run resumes.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>The commands a study can run.</summary>
    public static IReadOnlyList<string> Commands { get; } = SweptCommand.All.Select(c => c.Name).ToArray();

    /// <summary>Options the sweep sets itself for every run; a study file may not set them.</summary>
    public static IReadOnlyList<string> Reserved { get; } = ["out", "json", "resume", "checkpoint-every", "threads", "seed", "help"];

    /// <summary>The top-level fields of a study file.</summary>
    public static IReadOnlyList<string> TopLevelFields { get; } = ["name", "command", "options", "cases", "grid", "random", "seeds", "checkpoint-every"];
}

/// <summary>One option and its value (string, long, double or bool).</summary>
public sealed record StudyField(string Option, object Value);

/// <summary>Reads a study file (JSON or YAML) into a <see cref="StudySpec"/>, refusing anything it cannot use with a message naming the field.</summary>
public static class StudySpecReader
{
    /// <summary>Reads <paramref name="path"/>: .yaml/.yml as YAML, anything else as JSON.</summary>
    /// <param name="knownOptions">The option names (without dashes) of each command a study can run, to refuse unknown ones.</param>
    public static StudySpec Read(string path, IReadOnlyDictionary<string, IReadOnlyCollection<string>> knownOptions)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Study file '{path}' does not exist.", path);
        string text = File.ReadAllText(path);
        bool yaml = path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        JsonNode? root;
        try { root = yaml ? YamlToJson.Parse(text) : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (Exception e) when (e is JsonException or YamlDotNet.Core.YamlException)
        {
            throw new InvalidDataException($"Study file '{path}' is not valid {(yaml ? "YAML" : "JSON")}: {e.Message}", e);
        }
        return Parse(root, Path.GetFileNameWithoutExtension(path), knownOptions, path);
    }

    /// <summary>Parses a study from its JSON tree; every problem found is listed in one <see cref="ArgumentException"/>.</summary>
    public static StudySpec Parse(JsonNode? root, string defaultName, IReadOnlyDictionary<string, IReadOnlyCollection<string>> knownOptions, string source = "study")
    {
        var errors = new List<string>();
        if (root is not JsonObject obj) throw new ArgumentException($"Study file '{source}': the top level must be an object with the fields {string.Join(", ", StudySpec.TopLevelFields)}.");
        foreach (var (key, _) in obj)
            if (!StudySpec.TopLevelFields.Contains(key)) errors.Add($"'{key}' is not a study field; valid fields: {string.Join(", ", StudySpec.TopLevelFields)}");

        string name = obj["name"] is JsonNode n ? String(n, "name", errors) ?? defaultName : defaultName;
        string command = obj["command"] is JsonNode c ? String(c, "command", errors) ?? "train" : "train";
        if (!StudySpec.Commands.Contains(command)) errors.Add($"command: '{command}' cannot be swept; supported: {string.Join(", ", StudySpec.Commands)}");
        // With an unknown command, its options cannot be checked; those of train are, so the other errors still show.
        var known = knownOptions.TryGetValue(command, out var ofCommand) ? ofCommand : knownOptions.GetValueOrDefault("train") ?? [];

        var seen = new Dictionary<string, string>(StringComparer.Ordinal); // option -> where it is set
        void Claim(string option, string where)
        {
            string opt = option;
            if (StudySpec.Reserved.Contains(opt))
                errors.Add(opt == "seed" ? $"{where}: set the seeds with the top-level 'seeds' field, not as an option"
                    : $"{where}: '{opt}' is set by the sweep itself (reserved: {string.Join(", ", StudySpec.Reserved)})");
            else if (!known.Contains(opt))
                errors.Add($"{where}: '{opt}' is not an option of adl {command}; valid options: {string.Join(", ", known.Where(k => !StudySpec.Reserved.Contains(k)).Order(StringComparer.Ordinal))}");
            else if (seen.TryGetValue(opt, out var other) && !(other.StartsWith("cases", StringComparison.Ordinal) && where.StartsWith("cases", StringComparison.Ordinal)))
                errors.Add($"{where}: '{opt}' is also set in {other}; an option may vary in one place only");
            seen.TryAdd(opt, where);
        }

        var fixedFields = Fields(obj["options"], "options", errors, Claim);

        var cases = new List<IReadOnlyList<StudyField>>();
        if (obj["cases"] is JsonNode casesNode)
        {
            if (casesNode is not JsonArray arr || arr.Count == 0) errors.Add("cases: must be a non-empty list of option objects");
            else for (int k = 0; k < arr.Count; k++) cases.Add(Fields(arr[k], $"cases[{k}]", errors, Claim));
        }
        if (cases.Count == 0) cases.Add([]);

        var grid = new List<(string, IReadOnlyList<object>)>();
        if (obj["grid"] is JsonNode gridNode)
        {
            if (gridNode is not JsonObject g) errors.Add("grid: must be an object of option: [values]");
            else foreach (var (opt, values) in g)
            {
                string where = $"grid.{opt}";
                Claim(opt, where);
                if (values is not JsonArray list || list.Count == 0) { errors.Add($"{where}: must be a non-empty list of values"); continue; }
                var parsed = new List<object>();
                for (int k = 0; k < list.Count; k++) if (Scalar(list[k], $"{where}[{k}]", errors) is object v) parsed.Add(v);
                if (parsed.Distinct().Count() != parsed.Count) errors.Add($"{where}: lists a value twice; each grid value must be different");
                grid.Add((opt, parsed));
            }
        }

        int samples = 0;
        ulong samplerSeed = 1;
        var space = new List<(string, Distribution)>();
        if (obj["random"] is JsonNode randomNode)
        {
            if (randomNode is not JsonObject r) errors.Add("random: must be an object with 'samples', optional 'sampler-seed', and 'space'");
            else
            {
                foreach (var (key, _) in r)
                    if (key is not ("samples" or "sampler-seed" or "space")) errors.Add($"random.{key}: not a field of random; valid: samples, sampler-seed, space");
                samples = r["samples"] is JsonNode s ? Integer(s, "random.samples", errors, 1) is long sv ? (int)Math.Min(sv, int.MaxValue) : 0 : 0;
                if (r["samples"] is null) errors.Add("random.samples: required, the number of settings to draw (>= 1)");
                if (r["sampler-seed"] is JsonNode ss && Integer(ss, "random.sampler-seed", errors, 0) is long seedValue) samplerSeed = (ulong)seedValue;
                if (r["space"] is not JsonObject sp || sp.Count == 0) errors.Add("random.space: required, an object of option: {distribution: ...}");
                else foreach (var (opt, d) in sp)
                {
                    string where = $"random.space.{opt}";
                    Claim(opt, where);
                    if (ParseDistribution(d, where, errors) is Distribution dist) space.Add((opt, dist));
                }
            }
        }

        var seeds = new List<ulong>();
        switch (obj["seeds"])
        {
            case null: seeds.Add(1); break;
            case JsonArray list when list.Count > 0:
                for (int k = 0; k < list.Count; k++) if (Integer(list[k], $"seeds[{k}]", errors, 0) is long sd) seeds.Add((ulong)sd);
                if (seeds.Distinct().Count() != seeds.Count) errors.Add("seeds: lists a seed twice");
                break;
            case JsonObject range:
                foreach (var (key, _) in range)
                    if (key is not ("count" or "start")) errors.Add($"seeds.{key}: not a field of seeds; valid: count, start");
                long count = range["count"] is JsonNode cn ? Integer(cn, "seeds.count", errors, 1) ?? 0 : 0;
                if (range["count"] is null) errors.Add("seeds.count: required (>= 1)");
                long start = range["start"] is JsonNode st ? Integer(st, "seeds.start", errors, 0) ?? 1 : 1;
                for (long k = 0; k < count && k < 100_000; k++) seeds.Add((ulong)(start + k));
                break;
            default: errors.Add("seeds: must be a non-empty list of seeds or {count: N, start: S}"); break;
        }

        int checkpointEvery = obj["checkpoint-every"] is JsonNode ce ? (int)(Integer(ce, "checkpoint-every", errors, 0) ?? 0) : 0;

        if (errors.Count > 0) throw new ArgumentException($"Study file '{source}' is refused: " + string.Join("; ", errors) + ".");
        return new StudySpec
        {
            Name = name, Command = command, Fixed = fixedFields, Cases = cases, Grid = grid, Samples = samples, SamplerSeed = samplerSeed,
            Space = space, Seeds = seeds, CheckpointEvery = checkpointEvery,
        };
    }

    private static List<StudyField> Fields(JsonNode? node, string where, List<string> errors, Action<string, string> claim)
    {
        var fields = new List<StudyField>();
        if (node is null) return fields;
        if (node is not JsonObject o) { errors.Add($"{where}: must be an object of option: value"); return fields; }
        foreach (var (opt, v) in o)
        {
            claim(opt, $"{where}.{opt}");
            if (Scalar(v, $"{where}.{opt}", errors) is object value) fields.Add(new StudyField(opt, value));
        }
        return fields;
    }

    private static Distribution? ParseDistribution(JsonNode? node, string where, List<string> errors)
    {
        string allowed = "allowed: " + string.Join("; ", Distribution.Kinds);
        if (node is not JsonObject o || o.Count != 1) { errors.Add($"{where}: must be one distribution such as {{\"log-uniform\": [1e-4, 1e-1]}}; {allowed}"); return null; }
        var (kind, args) = o.First();
        if (args is not JsonArray a) { errors.Add($"{where}.{kind}: must be a list; {allowed}"); return null; }
        switch (kind)
        {
            case "log-uniform" or "uniform":
            {
                if (a.Count != 2) { errors.Add($"{where}.{kind}: needs exactly [low, high], got {a.Count} values"); return null; }
                double? lo = Number(a[0], $"{where}.{kind}[0]", errors), hi = Number(a[1], $"{where}.{kind}[1]", errors);
                if (lo is not double l || hi is not double h) return null;
                if (!double.IsFinite(l) || !double.IsFinite(h)) { errors.Add($"{where}.{kind}: bounds must be finite, got [{l}, {h}]"); return null; }
                if (!(l < h)) { errors.Add($"{where}.{kind}: the range [{Distribution.Show(l)}, {Distribution.Show(h)}] is empty; low must be below high"); return null; }
                if (kind == "log-uniform" && !(l > 0)) { errors.Add($"{where}.log-uniform: cannot sample from [{Distribution.Show(l)}, {Distribution.Show(h)}]: the log needs 0 < low"); return null; }
                return kind == "log-uniform" ? new Distribution.LogUniform(l, h) : new Distribution.Uniform(l, h);
            }
            case "int-range":
            {
                if (a.Count != 2) { errors.Add($"{where}.int-range: needs exactly [low, high], got {a.Count} values"); return null; }
                long? lo = Integer(a[0], $"{where}.int-range[0]", errors, long.MinValue), hi = Integer(a[1], $"{where}.int-range[1]", errors, long.MinValue);
                if (lo is not long l || hi is not long h) return null;
                if (l > h) { errors.Add($"{where}.int-range: the range [{l}, {h}] is empty; low must be at most high"); return null; }
                return new Distribution.IntRange(l, h);
            }
            case "choice":
            {
                if (a.Count == 0) { errors.Add($"{where}.choice: the list is empty; give at least one value"); return null; }
                var values = new List<object>();
                for (int k = 0; k < a.Count; k++) if (Scalar(a[k], $"{where}.choice[{k}]", errors) is object v) values.Add(v);
                return values.Count == a.Count ? new Distribution.Choice(values) : null;
            }
            default:
                errors.Add($"{where}: '{kind}' is not a distribution; {allowed}");
                return null;
        }
    }

    /// <summary>A JSON scalar as string, long, double or bool; lists, objects and null are refused.</summary>
    private static object? Scalar(JsonNode? node, string where, List<string> errors)
    {
        if (node is JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.String: return v.GetValue<string>();
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                case JsonValueKind.Number:
                    if (v.TryGetValue<long>(out long l)) return l;
                    return v.GetValue<double>();
            }
        }
        errors.Add($"{where}: must be a single value (a number, a string or true/false), got {(node is null ? "null" : node.ToJsonString())}");
        return null;
    }

    private static string? String(JsonNode node, string where, List<string> errors)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        errors.Add($"{where}: must be a string");
        return null;
    }

    private static double? Number(JsonNode? node, string where, List<string> errors)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
        errors.Add($"{where}: must be a number, got {node?.ToJsonString() ?? "null"}");
        return null;
    }

    private static long? Integer(JsonNode? node, string where, List<string> errors, long min)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out long l))
        {
            if (l >= min) return l;
            errors.Add($"{where}: must be >= {min}, got {l}");
            return null;
        }
        errors.Add($"{where}: must be an integer, got {node?.ToJsonString() ?? "null"}");
        return null;
    }
}
