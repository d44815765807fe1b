using System.Text.Json;
using System.Text.RegularExpressions;
using AutoDiffLstm.Tests.IO;
using AutoDiffLstm.Tests.Papers;

namespace AutoDiffLstm.Tests.Cli;

/// <summary>
/// Every command's JSON, on standard output and in its files, has exactly the keys docs/json-schema.md lists, all of
/// them snake_case: the documented schema cannot drift from what the program writes.
/// </summary>
public sealed class JsonSchemaTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>The key paths of each documented table, by its <c>&lt;!-- schema: id --&gt;</c> marker.</summary>
    private static Dictionary<string, HashSet<string>> Documented()
    {
        string doc = File.ReadAllText(Path.Combine(PaperTestFiles.RepositoryRoot, "docs", "json-schema.md"));
        var tables = new Dictionary<string, HashSet<string>>();
        foreach (Match section in Regex.Matches(doc, @"<!-- schema: ([a-z-]+) -->\n((?:\|.*\n)+)"))
            tables[section.Groups[1].Value] = Regex.Matches(section.Groups[2].Value, @"^\| `([^`]+)` \|", RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value).ToHashSet();
        var report = tables["train-report"];
        // Tables that say "keys as in train-report" for their nested report or options.
        tables["train-stdout"].UnionWith(report.Select(k => "result." + k));
        foreach (var id in new[] { "checkpoint", "compare-file" }) tables[id].UnionWith(report.Where(k => k.StartsWith("options.", StringComparison.Ordinal)));
        tables["compare-file"].UnionWith(tables["compare-stdout"].Where(k => k.StartsWith("results[].", StringComparison.Ordinal)));
        return tables;
    }

    /// <summary>Every key path of a JSON document: objects joined with '.', array elements as '[]'.</summary>
    private static HashSet<string> Keys(JsonElement element, string prefix = "", HashSet<string>? into = null)
    {
        into ??= [];
        if (element.ValueKind == JsonValueKind.Object)
            foreach (var p in element.EnumerateObject())
            {
                string path = prefix.Length == 0 ? p.Name : prefix + "." + p.Name;
                into.Add(path);
                Keys(p.Value, path, into);
            }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            if (element.GetArrayLength() == 0) into.Add(prefix + EmptyArray);
            foreach (var item in element.EnumerateArray()) Keys(item, prefix + "[]", into);
        }
        return into;
    }

    // Marks an array written empty: its documented element keys cannot appear (an Adam run has no Hessian-free steps).
    private const string EmptyArray = "#empty";

    /// <summary>The written keys are documented and, when <paramref name="complete"/>, every documented key is written (empty arrays show no element keys).</summary>
    private static void AssertMatches(string id, JsonElement json, bool complete = true)
    {
        var documented = Documented()[id];
        var all = Keys(json);
        var empty = all.Where(k => k.EndsWith(EmptyArray, StringComparison.Ordinal)).Select(k => k[..^EmptyArray.Length] + "[]").ToArray();
        var written = all.Where(k => !k.EndsWith(EmptyArray, StringComparison.Ordinal)).ToHashSet();
        documented = documented.Where(k => written.Contains(k) || !empty.Any(e => k.StartsWith(e, StringComparison.Ordinal))).ToHashSet();
        Assert.All(written, k => Assert.Matches(@"^(\[\]\.)?[a-z0-9_]+(\.[a-z0-9_]+|\[\]|\[\]\.[a-z0-9_]+)*$", k));
        var undocumented = written.Except(documented).Order().ToArray();
        var missing = complete ? documented.Except(written).Order().ToArray() : [];
        Assert.True(undocumented.Length == 0 && missing.Length == 0,
            $"{id}: written but not in docs/json-schema.md: [{string.Join(", ", undocumented)}]; documented but not written: [{string.Join(", ", missing)}]");
    }

    private static readonly string[] Tiny = ["--seq-len", "8", "--hidden", "6", "--batch", "4"];

    [Fact]
    public void TrainsJsonMatchesTheSchema()
    {
        string dir = temp.File("train");
        var stdout = CliRun.Json(CliRun.Expect(0, ["train", .. Tiny, "--steps", "4", "--eval-every", "2", "--out", dir, "--json"]));
        AssertMatches("train-stdout", stdout);
        AssertMatches("train-report", CliRun.JsonFile(Path.Combine(dir, "train-result.json")));
        AssertMatches("checkpoint", CliRun.JsonFile(Path.Combine(dir, "checkpoint.safetensors.json")));
    }

    [Fact]
    public void AHessianFreeRunWithCurvatureWritesEveryDocumentedKey()
    {
        string dir = temp.File("hf");
        var stdout = CliRun.Json(CliRun.Expect(0, ["train", .. Tiny, "--cell", "rnn", "--optimizer", "hf", "--hf-cg-iters", "3", "--curvature-every", "2", "--curvature-top", "2",
            "--steps", "2", "--eval-every", "2", "--out", dir, "--json"]));
        AssertMatches("train-stdout", stdout);
        AssertMatches("train-report", CliRun.JsonFile(Path.Combine(dir, "train-result.json")));
    }

    [Fact]
    public void ADivergedTrainReportHasTheSameKeys()
    {
        string dir = temp.File("diverged");
        var stdout = CliRun.Json(CliRun.Expect(1, ["train", .. Tiny, "--steps", "30", "--lr", "1e6", "--out", dir, "--json"]));
        // Diverged at its second step: no evaluation, so no evaluation keys (and an Adam run has no Hessian-free steps or
        // curvature measurements); nothing else is missing or extra.
        AssertMatches("train-stdout", stdout, complete: false);
        string[] emptyArrays = ["result.evaluations[]", "result.hessian_free[]", "result.curvature[]"];
        Assert.Equal(Documented()["train-stdout"].Count(k => !emptyArrays.Any(e => k.StartsWith(e, StringComparison.Ordinal))),
            Keys(stdout).Count(k => !k.EndsWith(EmptyArray, StringComparison.Ordinal)));
    }

    [Fact]
    public void GradFlowsJsonMatchesTheSchema()
    {
        string dir = temp.File("gradflow");
        var stdout = CliRun.Json(CliRun.Expect(0, "gradflow", "--seq-len", "6", "--hidden", "4", "--batch", "2", "--cell", "lstm", "--jacobian", "--gates", "--lyapunov", "--out", dir, "--json"));
        AssertMatches("gradflow", stdout);
        AssertMatches("gradflow", CliRun.JsonFile(Path.Combine(dir, "gradflow.json")));
    }

    [Fact]
    public void ComparesJsonMatchesTheSchema()
    {
        string dir = temp.File("compare");
        var stdout = CliRun.Json(CliRun.Expect(0, ["compare", "--study", "clipping", .. Tiny, "--steps", "3", "--out", dir, "--json"]));
        AssertMatches("compare-stdout", stdout);
        AssertMatches("compare-file", CliRun.JsonFile(Path.Combine(dir, "compare-clipping.json")));
    }

    [Fact]
    public void GradChecksJsonMatchesTheSchema() =>
        AssertMatches("gradcheck", CliRun.Json(CliRun.Expect(0, "gradcheck", "--seq-len", "3", "--hidden", "2", "--batch", "1", "--cell", "lstm", "--json")));

    [Fact]
    public void TheDemosJsonMatchesTheSchema()
    {
        string dir = temp.File("demo");
        var stdout = CliRun.Json(CliRun.Expect(0, "demo", "--steps", "3", "--seq-len", "6", "--hidden", "4", "--out", dir, "--json"));
        AssertMatches("demo", stdout);
        AssertMatches("demo", CliRun.JsonFile(Path.Combine(dir, "demo-summary.json")));
    }
}
