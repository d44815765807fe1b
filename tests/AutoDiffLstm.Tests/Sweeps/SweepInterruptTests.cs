using System.Diagnostics;
using System.Globalization;
using System.Text;
using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>
/// Ctrl-C for real on the local backend: <c>adl sweep</c> runs as a child process and gets SIGINT while a run is in
/// flight. It must exit 130 with the finished runs kept, the stopped run's checkpoint kept, and the next invocation
/// must skip the finished runs, resume the stopped one and gather the same table as a study never interrupted.
/// </summary>
public sealed class SweepInterruptTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>Two short runs, then two long ones (one at a time): SIGINT lands in the first long run.</summary>
    private const string Study = """
        {
          "name": "stoppable",
          "options": { "task": "adding", "seq-len": 6, "hidden": 4, "batch": 4, "eval-every": 50, "cell": "lstm" },
          "cases": [ { "steps": 20 }, { "steps": 1000 } ],
          "seeds": [1, 2],
          "checkpoint-every": 20
        }
        """;

    [Fact]
    public void CtrlCKeepsFinishedRunsAndCheckpointsAndTheRerunEndsAsAnUninterruptedStudy()
    {
        string spec = StudyFiles.Write(temp.File("stoppable.json"), Study);
        var plan = StudyFiles.Plan(spec);
        Assert.Equal([20, 20, 1000, 1000], plan.Runs.Select(r => r.Train.Steps));
        string dir = temp.File("study");
        string longRun = RunFolder.Path(dir, plan.Runs[2]);

        using var process = Process.Start(InterruptTests.Adl(["sweep", spec, "--out", dir, "--jobs", "1"]))!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Generous limits bound a hang on a loaded machine; they time nothing.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(Path.Combine(longRun, RunFolder.CheckpointFile)) && !process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.True(File.Exists(Path.Combine(longRun, RunFolder.CheckpointFile)), $"the long run wrote no checkpoint within 2 minutes:\n{output}");
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))!) kill.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"adl sweep did not stop within 2 minutes of SIGINT:\n{output}");
            process.WaitForExit();
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        string shown = $"exit {process.ExitCode}\n{output}";
        Assert.True(process.ExitCode == 130, shown);
        Assert.Contains("Stopped: the finished runs are kept", shown);

        var rows = StudyResults.Read(plan, dir);
        Assert.Equal([RunStatus.Done, RunStatus.Done, RunStatus.Pending, RunStatus.Pending], rows.Select(r => r.Outcome.Status));
        // The stopped run was sent SIGINT, so its checkpoint holds every step it completed (more than the 20-step
        // checkpoint it had when the signal was sent, unless it stopped right there) and its log says so.
        int completed = Checkpoint.ReadHeader(Path.Combine(longRun, RunFolder.CheckpointFile)).CompletedSteps;
        Assert.InRange(completed, 20, 999);
        Assert.False(File.Exists(Path.Combine(longRun, RunFolder.ExitCodeFile)), shown);
        Assert.Contains("Interrupted after step", File.ReadAllText(Path.Combine(longRun, RunFolder.LogFile)));
        Assert.False(File.Exists(Path.Combine(RunFolder.Path(dir, plan.Runs[3]), RunFolder.ExitCodeFile)));

        var rerun = CliRun.Json(CliRun.Expect(0, "sweep", spec, "--out", dir, "--json", "--jobs", "1"));
        Assert.Equal(2, rerun.GetProperty("skipped").GetInt32());
        Assert.Equal(2, rerun.GetProperty("ran").GetInt32());

        string straight = temp.File("straight");
        CliRun.Expect(0, "sweep", spec, "--out", straight, "--jobs", "2");
        Assert.Equal(StudyFiles.Gathered(straight), StudyFiles.Gathered(dir));
    }
}
