using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>The sbatch settings of a study's job array.</summary>
/// <param name="Partition">sbatch --partition (null: the cluster's default).</param>
/// <param name="Time">sbatch --time per run (null: the partition's default).</param>
/// <param name="CpusPerTask">sbatch --cpus-per-task, also each run's --threads.</param>
/// <param name="Memory">sbatch --mem per run (e.g. "1024M").</param>
/// <param name="ExtraArgs">Further sbatch arguments, passed as they are.</param>
/// <param name="Poll">Time between checks of the array while waiting.</param>
public sealed record SlurmOptions(string? Partition, string? Time, int CpusPerTask, string Memory, IReadOnlyList<string> ExtraArgs, TimeSpan Poll);

/// <summary>
/// Runs a study's pending runs on a Slurm cluster as ONE job array: a generated batch script maps
/// <c>SLURM_ARRAY_TASK_ID</c> to a run folder, runs the study's command there (<c>adl train</c> resuming from the run's checkpoint when a
/// previous task was killed) and writes the exit code, so the run folders end up exactly as the local backend leaves
/// them and are gathered the same way. The array is followed with <c>squeue</c>, and with <c>sacct</c> where the
/// cluster keeps accounting; without it, the run folders say what happened.
/// </summary>
public static class SlurmBackend
{
    /// <summary>The folder under the study directory with the submissions (script, task list, Slurm logs).</summary>
    public const string Folder = "slurm";

    /// <summary>
    /// Submits the pending runs (and failed ones when <paramref name="retryFailed"/>) and, when <paramref name="wait"/>,
    /// follows the array until it leaves the queue. A job array of this study still in the queue is followed instead of
    /// submitting the same runs twice. Cancelling stops the following, not the jobs.
    /// </summary>
    public static BackendReport Run(StudyPlan plan, string studyDir, ProcessCommand adl, SlurmOptions options, bool retryFailed, bool wait,
        Action<string> log, CancellationToken cancel)
    {
        if (options.CpusPerTask < 1) throw new ArgumentException($"--cpus-per-task must be at least 1, got {options.CpusPerTask}.");
        string slurmDir = Path.GetFullPath(Path.Combine(studyDir, Folder));
        Directory.CreateDirectory(slurmDir);
        string jobFile = Path.Combine(slurmDir, "job");
        if (File.Exists(jobFile) && File.ReadAllText(jobFile).Trim() is { Length: > 0 } previous && Queued(previous).Count > 0)
        {
            log($"Job array {previous} of this study is still queued or running; following it instead of submitting again.");
            return wait ? Follow(plan, studyDir, previous, options.Poll, log, skipped: 0, cancel) : new BackendReport(0, 0, false);
        }
        var pending = LocalBackend.Pending(plan, studyDir, retryFailed);
        int skipped = plan.Runs.Count - pending.Count;
        if (pending.Count == 0) { log("Every run has finished; nothing to submit."); return new BackendReport(skipped, 0, false); }

        int submission = Directory.GetDirectories(slurmDir, "submission-*").Length + 1;
        string subDir = Path.Combine(slurmDir, $"submission-{submission}");
        Directory.CreateDirectory(subDir);
        var tasks = new StringBuilder();
        foreach (var run in pending)
        {
            string runDir = Path.GetFullPath(RunFolder.Path(studyDir, run));
            RunFolder.Prepare(runDir, run);
            tasks.Append(runDir).Append('\t').Append(run.CheckpointEvery.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(subDir, "tasks.tsv"), tasks.ToString());
        string script = Path.Combine(subDir, "array.sbatch");
        AtomicFile.WriteAllText(script, BatchScript(plan.Spec.Name, subDir, pending.Count, adl, options, plan.Command));
        var (code, stdout, stderr) = Tool("sbatch", ["--parsable", .. options.ExtraArgs, script]);
        if (code != 0) throw new IOException($"sbatch refused the job array of study '{plan.Spec.Name}' (exit {code}): {stderr.Trim()} (script: {script}).");
        string jobId = stdout.Trim().Split(';')[0];
        AtomicFile.WriteAllText(jobFile, jobId + "\n");
        log($"Submitted job array {jobId} with {pending.Count} tasks ({skipped} runs finished before); script {script}.");
        return wait ? Follow(plan, studyDir, jobId, options.Poll, log, skipped, cancel) : new BackendReport(skipped, 0, false);
    }

    /// <summary>
    /// The batch script: one array task per line of tasks.tsv (run folder, checkpoint interval) running
    /// <paramref name="command"/> (train when not given) with the same arguments the local backend gives it.
    /// </summary>
    public static string BatchScript(string studyName, string subDir, int count, ProcessCommand adl, SlurmOptions options, SweptCommand? command = null)
    {
        command ??= SweptCommand.Train;
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append("# Generated by adl sweep: task i runs the run folder on line i+1 of tasks.tsv.\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name=adl-{Sanitise(studyName)}\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{count - 1}\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={subDir}/task-%a.out\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={options.CpusPerTask}\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --mem={options.Memory}\n");
        if (options.Partition is { } p) s.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={p}\n");
        if (options.Time is { } t) s.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={t}\n");
        s.Append("set -u\n");
        s.Append(CultureInfo.InvariantCulture, $"line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {ProcessCommand.Quote(Path.Combine(subDir, "tasks.tsv"))})\n");
        s.Append("run_dir=${line%%$'\\t'*}\n");
        s.Append("every=${line##*$'\\t'}\n");
        s.Append("mapfile -t args < \"$run_dir/args.txt\"\n");
        if (command.Resumable)
        {
            s.Append("common=(--out \"$run_dir\" --json --checkpoint-every \"$every\" --threads \"${SLURM_CPUS_PER_TASK:-1}\")\n");
            s.Append("# A task killed by its time limit or preempted left a checkpoint: continue from it.\n");
            s.Append("if [ -f \"$run_dir/checkpoint.safetensors\" ]; then\n");
            s.Append("  ").Append(adl.ShellWords([command.Name])).Append(" --resume \"$run_dir/checkpoint.safetensors\" \"${common[@]}\" >> \"$run_dir/log.txt\" 2>&1\n");
            s.Append("else\n");
            s.Append("  ").Append(adl.ShellWords([command.Name])).Append(" \"${args[@]}\" \"${common[@]}\" >> \"$run_dir/log.txt\" 2>&1\n");
            s.Append("fi\n");
        }
        else
        {
            // A command without checkpoints simply runs again when a task was killed.
            s.Append("common=(--out \"$run_dir\" --json --threads \"${SLURM_CPUS_PER_TASK:-1}\")\n");
            s.Append(adl.ShellWords([command.Name])).Append(" \"${args[@]}\" \"${common[@]}\" >> \"$run_dir/log.txt\" 2>&1\n");
        }
        s.Append("code=$?\n");
        s.Append("# The exit code marks the run finished; written atomically, as the local backend does.\n");
        s.Append("printf '%s\\n' \"$code\" > \"$run_dir/.exit-code.tmp\" && mv \"$run_dir/.exit-code.tmp\" \"$run_dir/exit-code\"\n");
        s.Append("exit \"$code\"\n");
        return s.ToString();
    }

    /// <summary>Polls squeue until the array has left the queue, logging progress; then reports task states from sacct when accounting exists.</summary>
    private static BackendReport Follow(StudyPlan plan, string studyDir, string jobId, TimeSpan poll, Action<string> log, int skipped, CancellationToken cancel)
    {
        string last = "";
        while (true)
        {
            var queued = Queued(jobId);
            int finished = plan.Runs.Count(r => File.Exists(Path.Combine(RunFolder.Path(studyDir, r), RunFolder.ExitCodeFile)));
            string status = $"job {jobId}: {queued.Count(q => q == "RUNNING")} running, {queued.Count(q => q == "PENDING")} waiting; {finished}/{plan.Runs.Count} runs finished";
            if (status != last) { log(status); last = status; }
            if (queued.Count == 0) break;
            if (cancel.WaitHandle.WaitOne(poll))
            {
                log($"Stopped following job array {jobId}; it goes on in Slurm (scancel {jobId} stops it). Run the command again to follow or gather it.");
                return new BackendReport(skipped, 0, true);
            }
        }
        var (code, stdout, stderr) = Tool("sacct", ["-j", jobId, "-n", "-P", "-X", "-o", "JobID,State,ExitCode"]);
        if (code == 0 && stdout.Trim().Length > 0)
        {
            var states = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).Where(f => f.Length >= 2).ToArray();
            log("sacct: " + string.Join(", ", states.GroupBy(f => f[1]).Select(g => $"{g.Count()} {g.Key}")));
            foreach (var f in states.Where(f => f[1] is "TIMEOUT" or "PREEMPTED" or "NODE_FAIL" or "OUT_OF_MEMORY" or "CANCELLED"))
                log($"  task {f[0]} ended {f[1]}: its run stays pending and resumes from its checkpoint when the study is submitted again.");
        }
        else log($"sacct has no records of job {jobId} (no accounting on this cluster{(stderr.Trim().Length > 0 ? ": " + stderr.Trim() : "")}); the run folders tell what finished.");
        int ran = plan.Runs.Count(r => File.Exists(Path.Combine(RunFolder.Path(studyDir, r), RunFolder.ExitCodeFile))) - skipped;
        return new BackendReport(skipped, Math.Max(0, ran), false);
    }

    /// <summary>The states of the array's tasks still in the queue (empty once it has left).</summary>
    private static List<string> Queued(string jobId)
    {
        var (code, stdout, _) = Tool("squeue", ["-h", "-j", jobId, "-o", "%T"]);
        // squeue fails with "Invalid job id" once the job has left the controller's memory: nothing is queued.
        return code != 0 ? [] : stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static (int Code, string Stdout, string Stderr) Tool(string name, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(name) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(info)!; }
        catch (Win32Exception e) { throw new IOException($"'{name}' cannot be started ({e.Message}): --slurm needs the Slurm client commands (sbatch, squeue) on the PATH.", e); }
        using (process)
        {
            var err = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, err.Result);
        }
    }

    private static string Sanitise(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
}
