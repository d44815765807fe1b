using System.Security.Cryptography;
using System.Text;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// One run of a study: its position, its identity (a hash of its command line, so the folder of a finished run is found
/// again however the study file is reordered), every option it sets, the command-line arguments that set them, and the
/// options the command parsed from them (<see cref="TrainingOptions"/> for train, <see cref="GradFlowRunOptions"/> for
/// gradflow).
/// </summary>
public sealed record PlannedRun(
    int Index, string Id, int CaseIndex, int GridIndex, int SampleIndex, ulong Seed,
    IReadOnlyList<StudyField> Values, IReadOnlyList<string> Args, object Options, int CheckpointEvery)
{
    /// <summary>The command the run executes.</summary>
    public SweptCommand Command { get; init; } = SweptCommand.Train;

    /// <summary>The training options of a train run.</summary>
    public TrainingOptions Train => Options as TrainingOptions
        ?? throw new InvalidOperationException($"Run {Index} is a {Command.Name} run; it has no training options.");

    /// <summary>The value of <paramref name="option"/> in this run, or null when the run leaves it at its default.</summary>
    public object? Value(string option) => option == "seed" ? Seed : Values.FirstOrDefault(v => v.Option == option)?.Value;
}

/// <summary>
/// The runs a study expands to, in a fixed order (case, grid point, random sample, seed), each validated with the
/// same parser and checks its command (<c>adl train</c>, <c>adl gradflow</c>) applies, before anything runs.
/// </summary>
public sealed class StudyPlan
{
    private StudyPlan(StudySpec spec, IReadOnlyList<PlannedRun> runs, IReadOnlyList<string> varied)
    {
        Spec = spec;
        Runs = runs;
        Varied = varied;
    }

    /// <summary>The study file.</summary>
    public StudySpec Spec { get; }

    /// <summary>The command every run executes.</summary>
    public SweptCommand Command => SweptCommand.Named(Spec.Command);

    /// <summary>Every run, in order.</summary>
    public IReadOnlyList<PlannedRun> Runs { get; }

    /// <summary>The options that differ between runs (case options, grid, random space, then "seed"): the columns of the results table.</summary>
    public IReadOnlyList<string> Varied { get; }

    /// <summary>The options drawn at random (modelled on a log scale when <see cref="Distribution.LogScale"/>).</summary>
    public IReadOnlyList<(string Option, Distribution Distribution)> Space => Spec.Space;

    /// <summary>A label of case <paramref name="caseIndex"/> from its options ("task=adding seq-len=100"), or "all" without cases.</summary>
    public string CaseLabel(int caseIndex) => Spec.Cases[caseIndex].Count == 0 ? "all" : string.Join(" ", Spec.Cases[caseIndex].Select(f => $"{f.Option}={Distribution.Show(f.Value)}"));

    /// <summary>A label of a run's grid point ("cell=lstm-nig"), or "all" without a grid.</summary>
    public string GridLabel(PlannedRun run) => Spec.Grid.Count == 0 ? "all"
        : string.Join(" ", Spec.Grid.Select(g => $"{g.Option}={Distribution.Show(run.Value(g.Option)!)}"));

    /// <summary>
    /// Expands <paramref name="spec"/> and validates every run with <paramref name="validate"/> (which parses the
    /// arguments as the command does and returns its options, or throws <see cref="ArgumentException"/>). Problems are
    /// reported by field first (the grid value or distribution edge the command refuses), then by run.
    /// </summary>
    public static StudyPlan Build(StudySpec spec, Func<IReadOnlyList<string>, object> validate)
    {
        var command = SweptCommand.Named(spec.Command);
        var gridPoints = Cartesian(spec.Grid);
        var runs = new List<PlannedRun>();
        var errors = new List<string>();
        for (int c = 0; c < spec.Cases.Count; c++)
        {
            var draws = Draws(spec, c);
            for (int g = 0; g < gridPoints.Count; g++)
                for (int s = 0; s < Math.Max(1, spec.Samples); s++)
                    foreach (ulong seed in spec.Seeds)
                    {
                        var values = spec.Fixed.Concat(spec.Cases[c]).Concat(gridPoints[g]).Concat(draws[s]).ToList();
                        var args = Args(values, seed);
                        object options;
                        try { options = validate(args); }
                        catch (ArgumentException e)
                        {
                            errors.Add($"run {runs.Count + errors.Count} ({string.Join(", ", values.Select(v => $"{v.Option}={Distribution.Show(v.Value)}"))}, seed={seed}): {e.Message}");
                            continue;
                        }
                        // The train runs' ids hash their arguments alone, as before gradflow could be swept, so the
                        // folders of finished studies are still found; a gradflow run's hash also names its command.
                        string id = command == SweptCommand.Train ? Id(args) : Id([command.Name, .. args]);
                        runs.Add(new PlannedRun(runs.Count, id, c, g, s, seed, values, args, options, command.CheckpointEvery(spec, options)) { Command = command });
                    }
        }
        // A random search need not draw every value; each one it could draw must still run, so the edges of every
        // distribution (every value of a choice) are tried in the first run's company.
        if (errors.Count == 0 && runs.Count > 0)
            foreach (var (option, d) in spec.Space)
                foreach (var v in d.Endpoints)
                {
                    var values = runs[0].Values.Where(f => f.Option != option).Append(new StudyField(option, v));
                    try { validate(Args(values, runs[0].Seed)); }
                    catch (ArgumentException e) { errors.Add($"random.space.{option}: the value {Distribution.Show(v)} it may draw is refused: {e.Message}"); }
                }
        if (errors.Count > 0 && errors.All(e => e.StartsWith("random.space.", StringComparison.Ordinal)))
            throw new ArgumentException($"Study '{spec.Name}' is refused before any run: " + string.Join("; ", errors));
        if (errors.Count > 0)
        {
            // Name the field when one value is to blame; list the failing runs only when it takes a combination.
            var fieldErrors = FieldErrors(spec, validate);
            var shown = fieldErrors.Count > 0 ? fieldErrors : errors.Take(5).Append(errors.Count > 5 ? $"... and {errors.Count - 5} more runs" : null).OfType<string>().ToList();
            throw new ArgumentException($"Study '{spec.Name}' is refused before any run: " + string.Join("; ", shown));
        }
        var varied = spec.Cases.SelectMany(f => f).Select(f => f.Option).Distinct()
            .Where(o => spec.Cases.Select(k => k.FirstOrDefault(f => f.Option == o)?.Value).Distinct().Count() > 1)
            .Concat(spec.Grid.Select(g => g.Option)).Concat(spec.Space.Select(d => d.Option)).Append("seed").ToArray();
        return new StudyPlan(spec, runs, varied);
    }

    /// <summary>The command-line arguments of a run: options in name order, a true flag as the bare option, a false one left out.</summary>
    public static IReadOnlyList<string> Args(IEnumerable<StudyField> values, ulong seed)
    {
        var args = new List<string>();
        foreach (var f in values.OrderBy(v => v.Option, StringComparer.Ordinal))
        {
            if (f.Value is bool b) { if (b) args.Add("--" + f.Option); continue; }
            args.Add("--" + f.Option);
            args.Add(Distribution.Show(f.Value));
        }
        args.Add("--seed");
        args.Add(seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return args;
    }

    private static string Id(IReadOnlyList<string> args) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", args))))[..12];

    private static List<List<StudyField>> Cartesian(IReadOnlyList<(string Option, IReadOnlyList<object> Values)> grid)
    {
        var points = new List<List<StudyField>> { new() };
        foreach (var (option, values) in grid)
            points = points.SelectMany(p => values.Select(v => new List<StudyField>(p) { new(option, v) })).ToList();
        return points;
    }

    /// <summary>The random settings of case <paramref name="caseIndex"/>: one generator per case, seeded by the sampler seed and the case.</summary>
    private static List<List<StudyField>> Draws(StudySpec spec, int caseIndex)
    {
        if (spec.Samples == 0) return [[]];
        var rng = new Rng(spec.SamplerSeed * 0x9E3779B97F4A7C15UL + (ulong)caseIndex);
        return Enumerable.Range(0, spec.Samples).Select(_ => spec.Space.Select(d => new StudyField(d.Option, d.Distribution.Sample(rng))).ToList()).ToList();
    }

    /// <summary>
    /// Each grid value, case, fixed value and distribution edge tried alone on the command's defaults plus the fixed
    /// options: a value refused there is the field's fault, whatever it is combined with.
    /// </summary>
    private static List<string> FieldErrors(StudySpec spec, Func<IReadOnlyList<string>, object> validate)
    {
        var errors = new List<string>();
        void Probe(string where, IEnumerable<StudyField> fields)
        {
            var set = fields.ToList();
            var baseline = spec.Fixed.Where(f => set.All(s => s.Option != f.Option));
            try { validate(Args(baseline.Concat(set), spec.Seeds[0])); }
            catch (ArgumentException e) { errors.Add($"{where}: {e.Message}"); }
        }
        if (spec.Fixed.Count > 0) Probe("options", spec.Fixed);
        if (errors.Count > 0) return errors;
        for (int c = 0; c < spec.Cases.Count; c++) if (spec.Cases[c].Count > 0) Probe($"cases[{c}]", spec.Cases[c]);
        foreach (var (option, values) in spec.Grid)
            for (int k = 0; k < values.Count; k++) Probe($"grid.{option}[{k}] = {Distribution.Show(values[k])}", [new(option, values[k])]);
        foreach (var (option, d) in spec.Space)
            foreach (var v in d.Endpoints) Probe($"random.space.{option} (value {Distribution.Show(v)} of {d})", [new(option, v)]);
        return errors;
    }
}
