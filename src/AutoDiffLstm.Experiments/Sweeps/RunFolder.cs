using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>Where a run stands.</summary>
public enum RunStatus
{
    /// <summary>Not run yet, or stopped before it ended (Ctrl-C, a Slurm time limit): it runs (or resumes) next time.</summary>
    Pending,
    /// <summary>Trained every step.</summary>
    Done,
    /// <summary>The loss became non-finite: a legitimate outcome of a setting (a too-large learning rate), kept and not retried.</summary>
    Diverged,
    /// <summary>The process failed without a usable result; reported, and retried with --retry-failed.</summary>
    Failed,
}

/// <summary>What <c>adl train</c> wrote to <c>train-result.json</c>: the part a study reads.</summary>
public sealed record TrainRunSummary
{
    /// <summary>The options the run trained with.</summary>
    public TrainingOptions Options { get; init; } = new();
    /// <summary>Held-out loss of the last evaluation (null when none happened).</summary>
    public double? FinalLoss { get; init; }
    /// <summary>Held-out accuracy of the last evaluation, for classification tasks.</summary>
    public double? FinalAccuracy { get; init; }
    /// <summary>The task's chance-level loss.</summary>
    public double BaselineLoss { get; init; }
    /// <summary>Trainable parameters.</summary>
    public int Parameters { get; init; }
    /// <summary>Training speed (not part of the study table: it depends on the machine).</summary>
    public double StepsPerSecond { get; init; }
    /// <summary>The training loss of every completed step.</summary>
    public double[] Losses { get; init; } = [];
}

/// <summary>A run's outcome as read from its folder: <see cref="Result"/> for a train run, <see cref="GradFlow"/> for a gradflow run.</summary>
public sealed record RunOutcome(RunStatus Status, int? ExitCode, TrainRunSummary? Result, string? Problem)
{
    /// <summary>What <c>adl gradflow</c> measured, for a run of a gradflow study.</summary>
    public GradFlowRunSummary? GradFlow { get; init; }
}

/// <summary>
/// The folder of one run, <c>{study}/runs/{id}</c>: <c>args.txt</c> (the run's arguments, one a line),
/// what the command writes under its --out there (<c>adl train</c>: train-result.json, checkpoint.safetensors, figures;
/// <c>adl gradflow</c>: gradflow.json, its CSV and figures), <c>log.txt</c> (its output), and <c>exit-code</c>, written by whoever launched the process (the local backend or the Slurm batch script)
/// once it ended. A run without an exit code has not finished; the two backends leave the same files, so results are
/// gathered the same way.
/// </summary>
public static class RunFolder
{
    /// <summary>The result file <c>adl train</c> writes under its --out (a gradflow run's: <see cref="SweptCommand.ResultFile"/>).</summary>
    public const string ResultFile = "train-result.json";
    /// <summary>The checkpoint <c>adl train</c> writes under its --out.</summary>
    public const string CheckpointFile = "checkpoint.safetensors";
    /// <summary>The process's exit code, written when it ended.</summary>
    public const string ExitCodeFile = "exit-code";
    /// <summary>Standard output and error of the process.</summary>
    public const string LogFile = "log.txt";
    /// <summary>The arguments, one a line.</summary>
    public const string ArgsFile = "args.txt";

    /// <summary>The folder of <paramref name="run"/> under <paramref name="studyDir"/>.</summary>
    public static string Path(string studyDir, PlannedRun run) => System.IO.Path.Combine(studyDir, "runs", run.Id);

    /// <summary>The full argument list of a run's process (see <see cref="SweptCommand.ProcessArgs"/>).</summary>
    public static IReadOnlyList<string> ProcessArgs(string runDir, PlannedRun run, int threads) => run.Command.ProcessArgs(runDir, run, threads);

    /// <summary>Writes args.txt (the run's own options, for people and for the Slurm script).</summary>
    public static void Prepare(string runDir, PlannedRun run)
    {
        Directory.CreateDirectory(runDir);
        AtomicFile.WriteAllText(System.IO.Path.Combine(runDir, ArgsFile), string.Join("\n", run.Args) + "\n");
    }

    /// <summary>Records that the process ended with <paramref name="code"/>.</summary>
    public static void WriteExitCode(string runDir, int code) =>
        AtomicFile.WriteAllText(System.IO.Path.Combine(runDir, ExitCodeFile), code.ToString(CultureInfo.InvariantCulture) + "\n");

    /// <summary>
    /// Forgets a failed run's outcome so it runs again (its checkpoint, if any, is kept, so it resumes).
    /// </summary>
    public static void ClearOutcome(string runDir, PlannedRun run)
    {
        File.Delete(System.IO.Path.Combine(runDir, ExitCodeFile));
        File.Delete(System.IO.Path.Combine(runDir, run.Command.ResultFile(run)));
    }

    /// <summary>Reads a run's outcome: pending without an exit code; otherwise done, diverged or failed, with the reason.</summary>
    public static RunOutcome Read(string runDir, PlannedRun run)
    {
        string exitPath = System.IO.Path.Combine(runDir, ExitCodeFile);
        if (!File.Exists(exitPath)) return new RunOutcome(RunStatus.Pending, null, null, null);
        if (!int.TryParse(File.ReadAllText(exitPath).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int code))
            return new RunOutcome(RunStatus.Failed, null, null, $"{exitPath} does not hold an exit code");
        return run.Command.Read(runDir, run, code);
    }

    /// <summary>The last two lines of the run's log, as ": line | line" (empty without a log), to say why a run failed.</summary>
    internal static string LogTail(string runDir)
    {
        string log = System.IO.Path.Combine(runDir, LogFile);
        if (!File.Exists(log)) return "";
        var lines = File.ReadAllLines(log).Where(l => l.Length > 0).TakeLast(2).ToArray();
        return lines.Length == 0 ? "" : ": " + string.Join(" | ", lines);
    }

    private static readonly JsonSerializerOptions ReadOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Reads train-result.json into <see cref="TrainRunSummary"/>. Keys are matched without regard to case, '_' or '-'
    /// ("final_loss", "finalLoss" and "FinalLoss" are the same), so the reader follows <c>adl train</c> when its JSON
    /// naming changes instead of depending on one spelling.
    /// </summary>
    public static TrainRunSummary ReadResult(string path) => ReadJson<TrainRunSummary>(path);

    /// <summary>Reads a result file into <typeparamref name="T"/>, keys matched as <see cref="ReadResult"/> matches them.</summary>
    public static T ReadJson<T>(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty JSON.");
        return Normalise(node).Deserialize<T>(ReadOptions) ?? throw new InvalidDataException($"{path} holds null.");
    }

    private static JsonNode? Normalise(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key.Replace("_", "").Replace("-", ""), Normalise(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Normalise).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };
}
