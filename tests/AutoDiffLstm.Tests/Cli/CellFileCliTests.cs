using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary><c>--cell-file</c>: a researcher's C# file, compiled at run time, adds cells that train and gradflow can name; bad files get worded errors.</summary>
public sealed class CellFileCliTests : IDisposable
{
    private readonly TempDirectory temp = new();
    // The registry lives for the whole test process: a fresh name per run of this class.
    private readonly string name = "filecell-" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => temp.Dispose();

    private string Write(string file, string source)
    {
        string path = temp.File(file);
        File.WriteAllText(path, source.Replace("NAME", name, StringComparison.Ordinal));
        return path;
    }

    /// <summary>The README's example: an Elman-like cell written with CustomCell, registered for float and double.</summary>
    private const string GoodCell = """
        public static class MyCells
        {
            public static void Register() => CellRegistry.Register("NAME", "tanh RNN from a cell file",
                (i, h, rng, _) => Make<double>(i, h, rng), (i, h, rng, _) => Make<float>(i, h, rng));

            private static RecurrentCell<T> Make<T>(int input, int hidden, Rng rng) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
                new CustomCell<T>("NAME", input, hidden, ["h"],
                    new Dictionary<string, int[]> { ["weight_ih"] = [hidden, input], ["weight_hh"] = [hidden, hidden], ["bias_ih"] = [hidden] },
                    (x, s, p) => [(x.Linear(p["weight_ih"], p["bias_ih"]) + s["h"].Linear(p["weight_hh"])).Tanh()], rng);
        }
        """;

    [Fact]
    public void ACellFromAFileTrainsAndShowsInGradflow()
    {
        string file = Write("mycell.cs", GoodCell);
        var json = CliRun.Json(CliRun.Expect(0, "train", "--cell-file", file, "--cell", name, "--task", "adding", "--seq-len", "8", "--hidden", "4",
            "--batch", "4", "--steps", "3", "--out", temp.File("run"), "--json"));
        var losses = json.GetProperty("result").GetProperty("losses").EnumerateArray().Select(l => l.GetDouble()).ToArray();
        Assert.Equal(3, losses.Length);
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        // Loaded again by a second command of the same process: the same file is not registered twice.
        var flow = CliRun.Json(CliRun.Expect(0, "gradflow", "--cell-file", file, "--cell", "lstm," + name, "--seq-len", "8", "--hidden", "4", "--batch", "2",
            "--json", "--out", temp.File("flow")));
        Assert.Contains(name, flow.GetProperty("curves").EnumerateArray().Select(c => c.GetProperty("curve").GetString()));
    }

    [Fact]
    public void ACompileErrorIsReportedWithFileLineAndMessage()
    {
        string file = Write("broken.cs", "public static class Broken\n{\n    public static void Register() { int x = 1 }\n}\n");
        var result = CliRun.Expect(2, "train", "--cell-file", file, "--cell", name, "--steps", "1", "--out", temp.File("bad"));
        Assert.Contains("does not compile", result.Err);
        Assert.Contains(file + ":3:", result.Err);
        Assert.Contains("error CS1002: ; expected", result.Err);
    }

    [Theory]
    [InlineData("public static class Helpers { public static int Twice(int x) => 2 * x; }", "no registration found")]
    [InlineData("public static class Empty { public static void Register() { } }", "registered no cell")]
    [InlineData("public static class Bad { public static void Register() => CellRegistry.Register(\"Has Spaces\", \"d\", (i, h, r, _) => new LstmCell<double>(i, h, r)); }", "must be non-empty lower-case")]
    public void AFileThatRegistersNothingUsableSaysSo(string source, string expected)
    {
        string file = Write("norego.cs", source);
        var result = CliRun.Expect(2, "train", "--cell-file", file, "--cell", "lstm", "--steps", "1", "--out", temp.File("none"));
        Assert.Contains(expected, result.Err);
        Assert.Contains("norego.cs", result.Err);
    }
}
