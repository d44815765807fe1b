using System.Globalization;
using System.Text.Json;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// Runs of <c>adl train</c>: a run is done when it trained every step, diverged when the loss became non-finite
/// (a legitimate outcome of its setting), and compared by its final held-out loss over the task's chance loss.
/// </summary>
internal sealed class TrainSweep : SweptCommand
{
    public override string Name => "train";

    public override bool Resumable => true;

    public override StudyMetric Metric { get; } = new("loss/chance", "loss / chance", "held-out loss / chance (lower is better)",
        "loss/chance = final held-out loss / chance loss (a diverged run counts as at least 1)",
        "solved", $"solved: below {StudySummary.SolvedFraction} of chance");

    public override string ResultFile(PlannedRun run) => RunFolder.ResultFile;

    public override int CheckpointEvery(StudySpec spec, object options) =>
        spec.CheckpointEvery > 0 ? spec.CheckpointEvery : Math.Max(1, ((TrainingOptions)options).Steps / 10);

    /// <summary>Resumes from the run's checkpoint when one exists (a run stopped part-way), otherwise starts with its options.</summary>
    public override IReadOnlyList<string> ProcessArgs(string runDir, PlannedRun run, int threads)
    {
        string checkpoint = Path.Combine(runDir, RunFolder.CheckpointFile);
        var head = File.Exists(checkpoint) ? (IEnumerable<string>)["train", "--resume", checkpoint] : ["train", .. run.Args];
        return [.. head, "--out", runDir, "--json", "--checkpoint-every", run.CheckpointEvery.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture)];
    }

    public override RunOutcome Read(string runDir, PlannedRun run, int code)
    {
        var options = (TrainingOptions)run.Options;
        TrainRunSummary? result = null;
        string? problem = null;
        string resultPath = Path.Combine(runDir, RunFolder.ResultFile);
        if (File.Exists(resultPath))
        {
            try { result = RunFolder.ReadResult(resultPath); }
            catch (Exception e) when (e is JsonException or InvalidDataException) { problem = $"{resultPath} cannot be read: {e.Message}"; }
            if (result is not null && result.Options != options)
                problem = $"{resultPath} holds a run with other options than the study's run {run.Index}";
        }
        if (problem is not null) return new RunOutcome(RunStatus.Failed, code, null, problem);
        if (result is null) return new RunOutcome(RunStatus.Failed, code, null, $"exit code {code} and no {RunFolder.ResultFile}{RunFolder.LogTail(runDir)}");
        bool complete = result.Losses.Length == options.Steps;
        if (code == 0 && complete) return new RunOutcome(RunStatus.Done, code, result, null);
        // adl train writes its results before it reports a divergence (exit 1 = failed, 2 = bad input, >= 128 = a signal).
        if (code is > 0 and < 128 and not 2 && !complete) return new RunOutcome(RunStatus.Diverged, code, result, null);
        return new RunOutcome(RunStatus.Failed, code, result, $"exit code {code} after {result.Losses.Length} of {options.Steps} steps{RunFolder.LogTail(runDir)}");
    }

    public override IReadOnlyList<string> ResultColumns { get; } = ["steps", "final_loss", "final_accuracy", "baseline_loss", "loss_ratio", "parameters"];

    public override string ResultsNote => "loss_ratio = final held-out loss / chance loss.";

    public override IReadOnlyList<object?> ResultCells(StudyRow row)
    {
        var r = row.Outcome.Result;
        return [r?.Losses.Length, r?.FinalLoss, r?.FinalAccuracy, r?.BaselineLoss, double.IsFinite(row.LossRatio) ? row.LossRatio : null, r?.Parameters];
    }
}
