using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary>
/// Ctrl-C for real: <c>adl train</c> runs as a child process, gets SIGINT or SIGTERM once it has made progress, and must
/// stop at the end of its step with exit 130, a checkpoint of every completed step, and the command that resumes it;
/// resuming then ends exactly where an uninterrupted run ends (runs are deterministic).
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly string[] Tiny = ["--cell", "lstm", "--task", "adding", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--eval-every", "3"];

    /// <summary>adl.dll next to the tests (the CLI project is referenced), run by the same dotnet host as the tests.</summary>
    internal static ProcessStartInfo Adl(IEnumerable<string> args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "adl.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references the CLI, whose build puts it there.");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
            ?? (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet");
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>Starts adl, waits for its first progress line, sends the signal, and returns its exit code and output.</summary>
    private static (int Code, string Out, string Err) RunAndSignal(string signal, params string[] args)
    {
        using var process = Process.Start(Adl(args))!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var progress = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data.Contains(" step 1/", StringComparison.Ordinal)) progress.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Generous limits: a loaded CI machine may take a while to start .NET; they bound a hang, they time nothing.
            if (!progress.Task.Wait(TimeSpan.FromMinutes(2)))
                Assert.Fail($"adl made no progress within 2 minutes.\nstdout:\n{stdout}\nstderr:\n{stderr}");
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!)
                kill.WaitForExit();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
                Assert.Fail($"adl did not stop within 2 minutes of SIG{signal}.\nstdout:\n{stdout}");
            process.WaitForExit(); // drains the asynchronous readers
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void ASignalStopsAfterTheStepWithACheckpointAndTheResumeFinishesTheSameRun(string signal)
    {
        string dir = temp.File("interrupted");
        var (code, output, errors) = RunAndSignal(signal, ["train", .. Tiny, "--steps", "1000000", "--out", dir]);
        string shown = $"exit {code}\nstdout:\n{output}\nstderr:\n{errors}";
        Assert.True(code == 130, shown);

        var stopped = Regex.Match(errors, @"Interrupted after step (\d+) of 1000000; the checkpoint (\S+) holds every completed step\. Resume with: (.+)");
        Assert.True(stopped.Success, shown);
        int completed = int.Parse(stopped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        Assert.Equal(checkpoint, stopped.Groups[2].Value);
        Assert.Equal($"adl train --resume {checkpoint}", stopped.Groups[3].Value.Trim());
        Assert.True(completed >= 1, shown);
        Assert.Equal(completed, Checkpoint.ReadHeader(checkpoint).CompletedSteps);
        Assert.DoesNotContain(Directory.GetFiles(dir), f => f.Contains(".tmp", StringComparison.Ordinal));
        var partial = CliRun.JsonFile(Path.Combine(dir, "train-result.json"));
        Assert.Equal("interrupted", partial.GetProperty("status").GetString());
        Assert.Equal(completed, partial.GetProperty("losses").GetArrayLength());

        // The printed command (after "adl"), extended to a few more steps, against the same run never interrupted.
        int total = completed + 5;
        string[] resume = [.. stopped.Groups[3].Value.Trim().Split(' ')[1..], "--steps", total.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"];
        var resumed = CliRun.Json(CliRun.Expect(0, resume)).GetProperty("result");
        var straight = CliRun.Json(CliRun.Expect(0, ["train", .. Tiny, "--steps", total.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", temp.File("straight"), "--json"])).GetProperty("result");

        double[] Losses(System.Text.Json.JsonElement r) => r.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(total, Losses(resumed).Length);
        Assert.Equal(Losses(straight), Losses(resumed));
        Assert.Equal(straight.GetProperty("final_loss").GetDouble(), resumed.GetProperty("final_loss").GetDouble());
        Assert.Equal(straight.GetProperty("evaluations").ToString(), resumed.GetProperty("evaluations").ToString());
        Assert.Equal(total, Checkpoint.ReadHeader(checkpoint).CompletedSteps);
    }
}
