using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>A study file that cannot run as written is refused before any run, naming the field and what is allowed.</summary>
public sealed class StudyValidationTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private CliResult Refused(string json, params string[] expected)
    {
        string spec = StudyFiles.Write(temp.File("study.json"), json);
        string outDir = temp.File("out");
        var result = CliRun.Expect(2, "sweep", spec, "--out", outDir);
        foreach (var e in expected) Assert.Contains(e, result.Err);
        Assert.False(Directory.Exists(outDir), "a refused study must not create its folder or start a run");
        return result;
    }

    [Fact]
    public void AnUnknownOptionIsRefusedWithTheValidOnes() =>
        Refused("""{ "options": { "hiden": 8 } }""", "options.hiden", "'hiden' is not an option of adl train", "valid options:", "hidden");

    [Fact]
    public void AValueTrainWouldRefuseIsRefusedNamingTheGridEntry() =>
        Refused("""{ "grid": { "hidden": [8, -3] } }""", "grid.hidden[1] = -3", "--hidden must be positive, got -3");

    [Fact]
    public void AValueOfTheWrongTypeIsRefusedByTrainsParser() =>
        Refused("""{ "options": { "steps": "many" } }""", "options", "many");

    [Fact]
    public void AnUnknownCellInARandomChoiceIsRefusedWithTheValidCells() =>
        Refused("""{ "random": { "samples": 2, "space": { "cell": { "choice": ["lstm", "lsmt"] } } } }""", "random.space.cell", "unknown cell 'lsmt'", "valid cells:");

    [Theory]
    [InlineData("""{ "random": { "samples": 2, "space": { "lr": { "log-uniform": [0.1, 0.001] } } } }""", "random.space.lr.log-uniform", "is empty")]
    [InlineData("""{ "random": { "samples": 2, "space": { "hidden": { "int-range": [9, 4] } } } }""", "random.space.hidden.int-range", "is empty")]
    [InlineData("""{ "random": { "samples": 2, "space": { "cell": { "choice": [] } } } }""", "random.space.cell.choice", "empty")]
    [InlineData("""{ "grid": { "hidden": [] } }""", "grid.hidden", "non-empty list")]
    public void AnEmptyRangeIsRefused(string json, string field, string message) => Refused(json, field, message);

    [Theory]
    [InlineData("""{ "random": { "samples": 2, "space": { "lr": { "log-uniform": [0, 0.1] } } } }""", "random.space.lr.log-uniform", "0 < low")]
    [InlineData("""{ "random": { "samples": 2, "space": { "lr": { "normal": [0, 0.1] } } } }""", "'normal' is not a distribution", "log-uniform")]
    [InlineData("""{ "random": { "space": { "lr": { "uniform": [0.01, 0.1] } } } }""", "random.samples", "required")]
    [InlineData("""{ "random": { "samples": 2, "space": { "lr": { "uniform": [-1, 0.1] } } } }""", "random.space.lr", "--lr must be a positive finite number, got -1")]
    public void AnUnsamplableDistributionIsRefused(string json, string field, string message) => Refused(json, field, message);

    [Theory]
    [InlineData("""{ "options": { "out": "x" } }""", "'out' is set by the sweep itself")]
    [InlineData("""{ "options": { "seed": 3 } }""", "top-level 'seeds'")]
    [InlineData("""{ "grid": { "lr": [0.1] }, "random": { "samples": 1, "space": { "lr": { "uniform": [0.01, 0.1] } } } }""", "'lr' is also set in grid.lr")]
    [InlineData("""{ "seeds": { "count": 0 } }""", "seeds.count: must be >= 1")]
    [InlineData("""{ "grids": {} }""", "'grids' is not a study field")]
    [InlineData("""{ "command": "gradcheck" }""", "'gradcheck' cannot be swept")]
    public void AFieldTheSweepCannotUseIsRefused(string json, string message) => Refused(json, message);

    // A gradflow study is checked with gradflow's own options and checks, and each run must measure one curve.
    [Theory]
    [InlineData("""{ "command": "gradflow", "options": { "steps": 10, "cell": "rnn" } }""", "options.steps", "'steps' is not an option of adl gradflow", "valid options:", "radii")]
    [InlineData("""{ "command": "gradflow", "options": { "cell": "rnn" }, "grid": { "seq-len": [12, 1] } }""", "grid.seq-len[1] = 1", "--seq-len must be at least 2, got 1")]
    [InlineData("""{ "command": "gradflow", "grid": { "radii": [0.9, -1] } }""", "grid.radii[1] = -1", "--radii: '-1' is not a positive number")]
    [InlineData("""{ "command": "gradflow", "options": { "cell": "rnn" }, "random": { "samples": 2, "space": { "hidden": { "int-range": [9, 4] } } } }""", "random.space.hidden.int-range", "is empty")]
    [InlineData("""{ "command": "gradflow", "options": { "cell": "rnn" }, "random": { "samples": 2, "space": { "hidden": { "int-range": [0, 4] } } } }""", "random.space.hidden", "--hidden must be positive, got 0")]
    [InlineData("""{ "command": "gradflow", "options": { "seq-len": 10 } }""", "a swept gradflow run measures one curve", "got 3 (rnn, lstm, gru), the default")]
    [InlineData("""{ "command": "gradflow", "grid": { "cell": ["rnn,gru", "lstm"] } }""", "grid.cell[0] = rnn,gru", "measures one curve", "got 2 (rnn, gru)")]
    [InlineData("""{ "command": "gradflow", "options": { "cell": "lstm" }, "grid": { "radii": [0.9, 1.1] } }""", "--radii sweeps a tanh RNN", "--cell")]
    [InlineData("""{ "command": "gradflow", "options": { "cell": "gru", "forget-bias": 1.0 } }""", "options", "--forget-bias applies to LSTM cells")]
    public void AGradFlowStudyIsRefusedWithGradFlowsOwnChecks(string json, params string[] expected) => Refused(json, expected);

    [Fact]
    public void ACombinationTrainRefusesIsRefusedNamingTheRun() =>
        // Each value is fine alone; a forget bias on a GRU is not.
        Refused("""{ "cases": [ { "cell": "lstm", "forget-bias": 1.0 }, { "cell": "gru" } ], "grid": { "forget-bias": [1.0] } }""", "'forget-bias' is also set");

    [Fact]
    public void AForgetBiasOnACellWithoutForgetGateIsRefusedWithTheReason() =>
        Refused("""{ "options": { "forget-bias": 1.0 }, "grid": { "cell": ["lstm", "gru"] } }""", "grid.cell[1] = gru", "--forget-bias applies to LSTM cells");

    [Fact]
    public void AYamlStudyPlansTheSameRunsAsItsJsonTwin()
    {
        string json = StudyFiles.Write(temp.File("tiny.json"), StudyFiles.Tiny);
        string yaml = StudyFiles.Write(temp.File("tiny.yaml"), """
            name: tiny
            options: { task: adding, seq-len: 6, batch: 4, steps: 12, eval-every: 4 }
            grid:
              cell: [lstm, gru]
            random:
              samples: 2
              sampler-seed: 3
              space:
                lr: { log-uniform: [1.0e-3, 0.1] }
                hidden: { int-range: [4, 8] }
            seeds: [1, 2]
            """);
        var a = StudyFiles.Plan(json);
        var b = StudyFiles.Plan(yaml);
        Assert.Equal(8, a.Runs.Count);
        Assert.Equal(a.Runs.Select(r => string.Join(' ', r.Args)), b.Runs.Select(r => string.Join(' ', r.Args)));
        Assert.Equal(a.Runs.Select(r => r.Id), b.Runs.Select(r => r.Id));
    }

    [Fact]
    public void RandomSettingsAreDrawnWithinTheirRangesSharedByTheGridPointsAndReproducible()
    {
        string spec = StudyFiles.Write(temp.File("s.json"), """
            { "grid": { "cell": ["lstm", "gru"] }, "random": { "samples": 50, "space": { "lr": { "log-uniform": [1e-4, 1e-1] }, "hidden": { "int-range": [4, 6] }, "optimizer": { "choice": ["adam", "sgd"] } } } }
            """);
        var plan = StudyFiles.Plan(spec);
        Assert.Equal(100, plan.Runs.Count);
        var lrs = plan.Runs.Select(r => (double)r.Value("lr")!).ToArray();
        Assert.All(lrs, lr => Assert.InRange(lr, 1e-4, 1e-1));
        // Log-uniform: about a third of the draws in each decade, not nine tenths in the top one.
        Assert.InRange(lrs.Count(lr => lr < 1e-3), 15, 55);
        Assert.Equal([4L, 5L, 6L], plan.Runs.Select(r => (long)r.Value("hidden")!).Distinct().Order());
        Assert.Equal(["adam", "sgd"], plan.Runs.Select(r => (string)r.Value("optimizer")!).Distinct().Order());
        var lstm = plan.Runs.Where(r => (string)r.Value("cell")! == "lstm").Select(r => r.Train with { Cell = "" });
        var gru = plan.Runs.Where(r => (string)r.Value("cell")! == "gru").Select(r => r.Train with { Cell = "" });
        Assert.Equal(lstm, gru);
        Assert.Equal(plan.Runs.Select(r => r.Id), StudyFiles.Plan(spec).Runs.Select(r => r.Id));
        Assert.Equal(plan.Runs.Count, plan.Runs.Select(r => r.Id).Distinct().Count());
    }
}
