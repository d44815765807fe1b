using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>
/// The local backend end to end: every run is a real <c>adl train</c> process; the study resumes (finished runs are
/// skipped, failed ones reported and retried on request, a run stopped part-way continues from its checkpoint) and
/// gathers the same table every time.
/// </summary>
public sealed class LocalSweepTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void AStudyRunsGathersAndResumesWithoutRunningFinishedRunsAgain()
    {
        string spec = StudyFiles.Write(temp.File("tiny.json"), StudyFiles.Tiny);
        string dir = temp.File("study");
        var first = CliRun.Expect(0, "sweep", spec, "--out", dir, "--jobs", "2");
        Assert.Contains("8 done, 0 diverged, 0 failed, 0 pending of 8 runs", first.Out);
        var (header, rows) = CliRun.Csv(Path.Combine(dir, StudyResults.CsvFile));
        Assert.Equal("run,id,case,cell,lr,hidden,seed,status,steps,final_loss,final_accuracy,baseline_loss,loss_ratio,parameters", header);
        Assert.Equal(8, rows.Length);
        Assert.All(rows, r => Assert.Contains(",done,12,", r));
        foreach (var f in new[] { "quality", "quality-vs-lr", "quality-vs-hidden" }) CliRun.AssertFigure(Path.Combine(dir, "figures", f));
        // Eight runs are too few for the importance analysis: said in the output and the table, not a crash.
        Assert.Contains("not computed: Functional ANOVA needs at least 10 runs with an outcome, got 8", first.Out);
        Assert.Contains("Not computed: Functional ANOVA needs at least 10 runs", File.ReadAllText(Path.Combine(dir, StudyImportance.MarkdownFile)));
        var plan = StudyFiles.Plan(spec);
        // Each row is the run's own train-result.json, read back.
        var r0 = RunFolder.ReadResult(Path.Combine(RunFolder.Path(dir, plan.Runs[0]), RunFolder.ResultFile));
        Assert.Equal(plan.Runs[0].Train, r0.Options);
        Assert.Contains(System.FormattableString.Invariant($",{r0.FinalLoss:R},"), rows[0]);
        var gathered = StudyFiles.Gathered(dir);

        var again = CliRun.Expect(0, "sweep", spec, "--out", dir, "--json");
        var json = CliRun.Json(again);
        Assert.Equal(8, json.GetProperty("skipped").GetInt32());
        Assert.Equal(0, json.GetProperty("ran").GetInt32());
        Assert.Equal(gathered, StudyFiles.Gathered(dir));

        // A failed run is reported (exit 1) and left alone until --retry-failed.
        string failedDir = RunFolder.Path(dir, plan.Runs[5]);
        File.Delete(Path.Combine(failedDir, RunFolder.ResultFile));
        File.WriteAllText(Path.Combine(failedDir, RunFolder.ExitCodeFile), "1\n");
        var failed = CliRun.Expect(1, "sweep", spec, "--out", dir);
        Assert.Contains($"failed: run 5 ({plan.Runs[5].Id})", failed.Out);
        Assert.Contains("--retry-failed", failed.Out);
        Assert.Contains("7 done, 0 diverged, 1 failed", failed.Out);
        var retried = CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--retry-failed", "--json"));
        Assert.Equal(1, retried.GetProperty("ran").GetInt32());
        Assert.Equal(gathered, StudyFiles.Gathered(dir));

        // A run stopped at step 6 of 12 (as a Slurm time limit would stop it) continues from its checkpoint.
        var run = plan.Runs[2];
        string runDir = RunFolder.Path(dir, run);
        Directory.Delete(runDir, recursive: true);
        var trainer = new Trainer<float>(run.Train);
        using (var stop = new CancellationTokenSource())
        {
            trainer.OnStep = s => { if (s.Step == 6) stop.Cancel(); };
            Assert.Throws<OperationCanceledException>(() => trainer.Run(stop.Token));
        }
        trainer.SaveCheckpoint(Path.Combine(runDir, RunFolder.CheckpointFile));
        Assert.Equal(6, Checkpoint.ReadHeader(Path.Combine(runDir, RunFolder.CheckpointFile)).CompletedSteps);
        Assert.Contains("--resume", RunFolder.ProcessArgs(runDir, run, 1));
        var resumed = CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--json"));
        Assert.Equal(1, resumed.GetProperty("ran").GetInt32());
        Assert.Equal(gathered, StudyFiles.Gathered(dir));
    }

    [Fact]
    public void ARunThatDivergesIsKeptAsDivergedNotRetried()
    {
        // Plain SGD at a learning rate of 1e6 blows the loss up within a few steps.
        string spec = StudyFiles.Write(temp.File("div.json"), """
            { "options": { "seq-len": 6, "hidden": 4, "batch": 4, "steps": 40, "eval-every": 2, "optimizer": "sgd" }, "grid": { "lr": [0.01, 1e6] } }
            """);
        string dir = temp.File("div");
        var json = CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--json", "--jobs", "2"));
        Assert.Equal(1, json.GetProperty("done").GetInt32());
        Assert.Equal(1, json.GetProperty("diverged").GetInt32());
        var rows = StudyResults.Read(StudyFiles.Plan(spec), dir);
        Assert.Equal(RunStatus.Diverged, rows[1].Outcome.Status);
        Assert.True(rows[1].Outcome.Result!.Losses.Length < 40);
        Assert.True(rows[1].Quality >= 1, $"a diverged run scores no better than chance, got {rows[1].Quality}");
        Assert.Equal(0, CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--json", "--retry-failed")).GetProperty("ran").GetInt32());
    }

    [Fact]
    public void PlanListsTheRunsWithoutRunningThem()
    {
        string spec = StudyFiles.Write(temp.File("tiny.json"), StudyFiles.Tiny);
        var json = CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", temp.File("none"), "--plan", "--json"));
        Assert.Equal(8, json.GetProperty("runs").GetArrayLength());
        Assert.False(Directory.Exists(temp.File("none")));
    }
}
