using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>
/// A study of <c>adl gradflow</c> runs: validated with gradflow's own checks before any run, each run one real process
/// that writes its gradflow.json into its folder, gathered into the same tables, figures and importance as a train study.
/// </summary>
public sealed class GradFlowSweepTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>Three spectral radii x two hidden sizes x two seeds = 12 runs of a 12-step tanh RNN.</summary>
    private const string Radius = """
        {
          "name": "radius",
          "command": "gradflow",
          "options": { "seq-len": 12, "batch": 2 },
          "grid": { "radii": [0.5, 1.0, 2.0] },
          "random": { "samples": 2, "sampler-seed": 5, "space": { "hidden": { "int-range": [3, 6] } } },
          "seeds": [1, 2]
        }
        """;

    [Fact]
    public void AGradFlowStudyRunsLocallyAndGathersATable()
    {
        string spec = StudyFiles.Write(temp.File("radius.json"), Radius);
        string dir = temp.File("study");
        var first = CliRun.Expect(0, "sweep", spec, "--out", dir, "--jobs", "2");
        Assert.Contains("12 done, 0 diverged, 0 failed, 0 pending of 12 runs", first.Out);

        var (header, rows) = CliRun.Csv(Path.Combine(dir, StudyResults.CsvFile));
        Assert.Equal("run,id,case,radii,hidden,seed,status,seq_len,grad_norm_at_loss,grad_norm_at_first_step,log10_change_per_step,log10_first_over_loss,steps_until_1e_3", header);
        Assert.Equal(12, rows.Length);
        var plan = StudyFiles.Plan(spec);
        var gathered = StudyResults.Read(plan, dir);
        foreach (var row in gathered)
        {
            // Each row is the run's own gradflow-radius-sweep.json, read back from its folder.
            string json = Path.Combine(RunFolder.Path(dir, row.Run), "gradflow-radius-sweep.json");
            var own = CliRun.JsonFile(json).GetProperty("curves")[0];
            double rate = own.GetProperty("log10_change_per_step").GetDouble();
            Assert.Equal(RunStatus.Done, row.Outcome.Status);
            Assert.Equal(rate, row.Outcome.GradFlow!.Curves[0].Log10ChangePerStep);
            Assert.Equal(Math.Abs(rate), row.Quality);
            Assert.Contains(FormattableString.Invariant($",{rate:R},"), rows[row.Run.Index]);
            // A contracting W_hh (rho 0.5) loses the gradient going back, an expanding one (rho 2) amplifies it.
            double rho = (double)row.Run.Value("radii")!;
            if (rho < 1) Assert.True(rate < 0, $"rho {rho}: log10 change per step {rate}, expected a vanishing gradient");
            if (rho > 1) Assert.True(rate > 0, $"rho {rho}: log10 change per step {rate}, expected an exploding gradient");
        }

        // Summary per radius in the gradflow metric; "preserved" counts the runs that kept the gradient within 3 decades.
        var (summaryHeader, summary) = CliRun.Csv(Path.Combine(dir, StudySummary.CsvFile));
        Assert.Equal("case,grid point,runs,mean abs log10 change/step,median abs log10 change/step,preserved,best hidden,best mean abs log10 change/step,best sd over seeds,best preserved", summaryHeader);
        Assert.Equal(3, summary.Length);
        Assert.Equal(gathered.Where(r => (double)r.Run.Value("radii")! == 1.0).Count(r => r.Solved).ToString(System.Globalization.CultureInfo.InvariantCulture), summary[1].Split(',')[5]);
        Assert.Contains("| case | grid point | runs | mean abs log10 change/step |", File.ReadAllText(Path.Combine(dir, StudySummary.MarkdownFile)));

        // Twelve runs: the importance analysis runs, over the radius and the hidden size.
        var (_, importance) = CliRun.Csv(Path.Combine(dir, StudyImportance.CsvFile));
        Assert.Contains(importance, l => l.StartsWith("all,radii,main,", StringComparison.Ordinal));
        Assert.Contains(importance, l => l.StartsWith("all,hidden,main,", StringComparison.Ordinal));
        foreach (var f in new[] { "quality", "quality-vs-hidden", "importance" }) CliRun.AssertFigure(Path.Combine(dir, "figures", f));

        // Run again: every run has finished, nothing runs, the same table comes out.
        var files = StudyFiles.Gathered(dir);
        var again = CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--json"));
        Assert.Equal(12, again.GetProperty("skipped").GetInt32());
        Assert.Equal(0, again.GetProperty("ran").GetInt32());
        Assert.Equal(files, StudyFiles.Gathered(dir));
    }

    [Fact]
    public void AGradFlowRunWithoutItsResultFileIsFailedAndRetried()
    {
        string spec = StudyFiles.Write(temp.File("cells.json"), """
            { "command": "gradflow", "options": { "seq-len": 8, "hidden": 3, "batch": 2 }, "grid": { "cell": ["rnn", "lstm"] } }
            """);
        string dir = temp.File("cells");
        CliRun.Expect(0, "sweep", spec, "--out", dir);
        var plan = StudyFiles.Plan(spec);
        Assert.Equal("gradflow.json", plan.Command.ResultFile(plan.Runs[1]));
        string runDir = RunFolder.Path(dir, plan.Runs[1]);
        File.Delete(Path.Combine(runDir, "gradflow.json"));
        var failed = CliRun.Expect(1, "sweep", spec, "--out", dir);
        Assert.Contains($"failed: run 1 ({plan.Runs[1].Id}): exit code 0 and no gradflow.json", failed.Out);
        Assert.Equal(1, CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--retry-failed", "--json")).GetProperty("ran").GetInt32());
    }

    [Fact]
    public void TheSlurmScriptOfAGradFlowStudyRunsGradFlowWithoutCheckpoints()
    {
        var adl = new ProcessCommand("/opt/adl/adl", []);
        var options = new SlurmOptions(null, null, 2, "1G", [], TimeSpan.FromSeconds(1));
        string script = SlurmBackend.BatchScript("radius", "/tmp/sub", 3, adl, options, SweptCommand.GradFlow);
        Assert.Contains("'/opt/adl/adl' 'gradflow' \"${args[@]}\" \"${common[@]}\"", script);
        Assert.DoesNotContain("--checkpoint-every", script);
        Assert.DoesNotContain("--resume", script);
        string train = SlurmBackend.BatchScript("t", "/tmp/sub", 3, adl, options, SweptCommand.Train);
        Assert.Contains("'/opt/adl/adl' 'train' --resume", train);
    }
}
