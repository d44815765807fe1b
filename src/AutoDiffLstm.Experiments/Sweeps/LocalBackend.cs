using System.Diagnostics;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>What a backend did: runs skipped because they had finished before, runs it ran, and whether it was stopped.</summary>
public sealed record BackendReport(int Skipped, int Ran, bool Cancelled);

/// <summary>
/// Runs a study's pending runs on this machine, each as its own <c>adl</c> process (train or gradflow), at most <c>jobs</c> at once.
/// Cancelling (Ctrl-C) stops the running processes with SIGINT, so each writes a checkpoint, and records no exit code
/// for them: finished runs are kept and the stopped ones resume from their checkpoint next time.
/// </summary>
public static class LocalBackend
{
    /// <summary>
    /// The default number of parallel runs: the processor count, lowered so that every run has
    /// <paramref name="bytesPerRun"/> of the memory this process may use.
    /// </summary>
    public static int DefaultJobs(long bytesPerRun)
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long byMemory = Math.Max(1, available / Math.Max(1, bytesPerRun));
        return (int)Math.Clamp(byMemory, 1, Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs every pending run (and failed ones when <paramref name="retryFailed"/>); calls <paramref name="onFinished"/>
    /// as each ends (from worker threads, one at a time).
    /// </summary>
    public static async Task<BackendReport> RunAsync(StudyPlan plan, string studyDir, ProcessCommand adl, int jobs, bool retryFailed,
        Action<PlannedRun, RunOutcome>? onStarted, Action<PlannedRun, RunOutcome>? onFinished, CancellationToken cancel)
    {
        if (jobs < 1) throw new ArgumentException($"--jobs must be at least 1, got {jobs}.");
        var pending = Pending(plan, studyDir, retryFailed);
        int threads = Math.Max(1, Environment.ProcessorCount / jobs);
        var gate = new object();
        int ran = 0;
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancel }, async (run, token) =>
            {
                string dir = RunFolder.Path(studyDir, run);
                RunFolder.Prepare(dir, run);
                lock (gate) onStarted?.Invoke(run, new RunOutcome(RunStatus.Pending, null, null, null));
                int? code = await RunProcessAsync(adl, RunFolder.ProcessArgs(dir, run, threads), Path.Combine(dir, RunFolder.LogFile), token);
                if (code is null) return; // stopped: no exit code, so the run stays pending
                RunFolder.WriteExitCode(dir, code.Value);
                Interlocked.Increment(ref ran);
                var outcome = RunFolder.Read(dir, run);
                lock (gate) onFinished?.Invoke(run, outcome);
            });
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return new BackendReport(plan.Runs.Count - pending.Count, ran, true);
        }
        return new BackendReport(plan.Runs.Count - pending.Count, ran, false);
    }

    /// <summary>The runs to run now: those without an outcome, and the failed ones when asked (their outcome is cleared first).</summary>
    public static List<PlannedRun> Pending(StudyPlan plan, string studyDir, bool retryFailed)
    {
        var pending = new List<PlannedRun>();
        foreach (var run in plan.Runs)
        {
            string dir = RunFolder.Path(studyDir, run);
            var status = RunFolder.Read(dir, run).Status;
            if (status == RunStatus.Failed && retryFailed) RunFolder.ClearOutcome(dir, run);
            if (status == RunStatus.Pending || (status == RunStatus.Failed && retryFailed)) pending.Add(run);
        }
        return pending;
    }

    /// <summary>How long a stopped run may take to write its checkpoint and exit before it is killed.</summary>
    public static TimeSpan StopGrace { get; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stops a run as Ctrl-C stops <c>adl train</c>: SIGINT, so it ends its step and writes a checkpoint of every completed
    /// step (exit 130); killed only if it has not exited after <see cref="StopGrace"/>. (In a terminal the run got the
    /// same SIGINT already; a study stopped with <c>kill -INT</c> or SIGTERM reaches only this process.)
    /// </summary>
    private static async Task StopAsync(Process process)
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                using var signal = Process.Start(new ProcessStartInfo("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                signal?.WaitForExit();
            }
            catch (System.ComponentModel.Win32Exception) { } // no kill program: fall through to the hard kill below
            using var grace = new CancellationTokenSource(StopGrace);
            try { await process.WaitForExitAsync(grace.Token); return; }
            catch (OperationCanceledException) { }
        }
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } // already gone
        await process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>Runs one process with its output in <paramref name="logPath"/>; returns its exit code, or null when cancelled (the process tree is killed).</summary>
    internal static async Task<int?> RunProcessAsync(ProcessCommand adl, IReadOnlyList<string> args, string logPath, CancellationToken cancel)
    {
        var info = new ProcessStartInfo(adl.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in adl.PrefixArgs.Concat(args)) info.ArgumentList.Add(a);
        await using var log = new StreamWriter(logPath, append: true);
        var logLock = new object();
        using var process = new Process { StartInfo = info };
        void Append(string? line) { if (line is not null) lock (logLock) log.WriteLine(line); }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(process);
            return null;
        }
        process.WaitForExit(); // drains the output events
        // Ctrl-C in a terminal reaches the whole process group: a run may die of the same SIGINT before this process
        // has seen it. A run killed by a signal while the study is being stopped is stopped, not failed.
        if (process.ExitCode >= 128 && !cancel.IsCancellationRequested) cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(500));
        return cancel.IsCancellationRequested ? null : process.ExitCode;
    }
}
