using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Cli.Commands;

/// <summary>
/// One <c>adl train</c> run once its options are settled: the loop with progress, a checkpoint every N steps and at
/// the end, Ctrl-C (SIGINT) or SIGTERM ending it cleanly at the end of the current step with a checkpoint and the
/// command that resumes it, and an honest verdict (diverged: exit 1; did not beat chance: said plainly).
/// </summary>
internal sealed class TrainRun(TextWriter stdout, TextWriter stderr, string dir, int checkpointEvery, bool asJson, long memoryEstimate)
{
    /// <summary>The exit code of a run stopped by a signal: 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>A loss more than this many times the first step's ends the run as diverged.</summary>
    public const double ExplodingLossFactor = 1e3;

    private string CheckpointPath => Path.Combine(dir, Checkpoint.DefaultName);

    /// <summary>Refuses a run whose estimated memory exceeds what is available, naming the estimate and what would fit.</summary>
    public static MemoryEstimate CheckMemory(TrainingOptions options)
    {
        var estimate = MemoryEstimate.Of(options);
        long available = MemoryEstimate.AvailableBytes();
        if (estimate.TotalBytes <= available) return estimate;
        var fits = new List<string>();
        for (int b = options.Batch / 2; b >= 1; b /= 2)
            if (MemoryEstimate.Of(options with { Batch = b }).TotalBytes <= available) { fits.Add($"--batch {b}"); break; }
        if (options.GradientCheckpoint == 0)
        {
            long checkpointed = MemoryEstimate.Of(options with { GradientCheckpoint = -1 }).TotalBytes;
            if (checkpointed <= available) fits.Add($"--grad-checkpoint -1 (about {MemoryEstimate.Format(checkpointed)})");
            else if (MemoryEstimate.Of(options with { GradientCheckpoint = -1, Batch = 1 }).TotalBytes <= available) fits.Add("--grad-checkpoint -1 with a smaller --batch");
        }
        string advice = fits.Count > 0 ? "What would fit: " + string.Join("; or ", fits) + "." : "Nothing close fits: shorten --seq-len or lower --hidden.";
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"train: this run needs about {MemoryEstimate.Format(estimate.TotalBytes)} (activations the tape keeps: {MemoryEstimate.Format(estimate.ActivationBytes)} for T = {options.SequenceLength}, B = {options.Batch}, H = {options.Hidden}, {options.Cell}, {options.Layers} layer(s){(options.GradientCheckpoint != 0 ? $", --grad-checkpoint {options.GradientCheckpoint}" : "")}; parameters {MemoryEstimate.Format(estimate.ParameterBytes)}; data {MemoryEstimate.Format(estimate.DataBytes)}), more than the {MemoryEstimate.Format(available)} available. {advice}"));
    }

    public int Run<T>(TrainingOptions options, string? resumePath, int? extend) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var trainer = resumePath is null ? new Trainer<T>(options) : Trainer<T>.Resume(resumePath, extend);
        trainer.ExplodingLossFactor = ExplodingLossFactor;
        var view = new ConsoleView(stdout);
        string label = $"{trainer.Options.Cell} on {trainer.Options.Task}";
        using var stop = new CancellationTokenSource();
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            // The first signal ends the run after the current step; a second one is left to the default (terminate now).
            if (Interlocked.Increment(ref signals) > 1) return;
            context.Cancel = true;
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            var result = view.WithProgress(label, trainer.Options.Steps, onStep =>
            {
                trainer.OnStep = s =>
                {
                    if (!asJson) onStep(label, s);
                    if (checkpointEvery > 0 && s.Step % checkpointEvery == 0) trainer.SaveCheckpoint(CheckpointPath);
                };
                return trainer.Run(stop.Token);
            });
            trainer.SaveCheckpoint(CheckpointPath);
            return Finish(view, label, TrainReport.From(result, "completed", null, Parallelism.MaxThreads, memoryEstimate), result, Cli.Ok);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            trainer.SaveCheckpoint(CheckpointPath);
            var partial = trainer.Result();
            string how = $"Interrupted after step {trainer.CompletedSteps} of {trainer.Options.Steps}; the checkpoint {CheckpointPath} holds every completed step. Resume with: {ResumeCommand()}";
            return Finish(view, label, TrainReport.From(partial, "interrupted", how, Parallelism.MaxThreads, memoryEstimate), partial, Interrupted);
        }
        catch (TrainingDivergedException e)
        {
            var partial = trainer.Result();
            return Finish(view, label, TrainReport.From(partial, "diverged", e.Message, Parallelism.MaxThreads, memoryEstimate), partial, Cli.Failed);
        }
    }

    /// <summary>The command that continues this run: its results go next to the checkpoint, where this one wrote them.</summary>
    private string ResumeCommand() => $"adl train --resume {Quote(CheckpointPath)}";

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '\\') ? "'" + path.Replace("'", "'\\''") + "'" : path;

    /// <summary>Writes the results (every outcome keeps what it recorded), then the JSON or the table and the verdict.</summary>
    private int Finish(ConsoleView view, string label, TrainReport report, TrainingResult result, int code)
    {
        var files = WriteResults(report, result).ToList();
        if (report.Status != "diverged") files.AddRange([CheckpointPath, CheckpointPath + ".json"]);
        var c = CultureInfo.InvariantCulture;
        // The failure goes to standard error in words whether or not the JSON goes to standard output.
        if (report.Failure is not null) stderr.WriteLine((report.Status == "diverged" ? "error: " : "") + report.Failure);
        if (asJson) { stdout.WriteLine(ResultFiles.ToJson(new { result = report, files })); return code; }
        if (result.Evaluations.Count > 0)
            view.Table($"{label}, T = {result.Options.SequenceLength}", ["step", "held-out loss", "accuracy"],
                result.Evaluations.Select(e => (IReadOnlyList<string>)[e.Step.ToString(c), e.Loss.ToString("G4", c), e.Accuracy?.ToString("P1", c) ?? "-"]));
        stdout.WriteLine(string.Create(c, $"Baseline: {result.BaselineLoss:G4} ({result.BaselineDescription}). {result.StepsPerSecond:F1} steps/s, {result.ParameterCount} parameters."));
        if (report.FinalLoss is double final && report.Status == "completed")
            stdout.WriteLine(report.BeatChance == true
                ? string.Create(c, $"Beat chance: held-out loss {final:G4} is {final / result.BaselineLoss:P1} of the baseline's {result.BaselineLoss:G4}.")
                : string.Create(c, $"Did NOT beat chance: held-out loss {final:G4} against the baseline's {result.BaselineLoss:G4} (a run beats chance below {TrainReport.ChanceMargin:0.#}x the baseline). Train longer (--steps), or try another --lr or --cell."));
        stdout.WriteLine("Wrote: " + string.Join(", ", files));
        return code;
    }

    private IEnumerable<string> WriteResults(TrainReport report, TrainingResult result)
    {
        string json = Path.Combine(dir, "train-result.json"), csv = Path.Combine(dir, "train-steps.csv");
        ResultFiles.WriteJson(json, report);
        ResultFiles.WriteCsv(csv, ["step", "loss", "grad_norm", "learning_rate"], result.Steps.Select(s => (IReadOnlyList<object?>)[s.Step, s.Loss, s.GradNorm, s.LearningRate]));
        var runs = new[] { new LabelledRun(CellLabels.Of(result.Options), result) };
        return [json, csv, .. TrainingStudy.EvalLossFigure(runs, $"{result.Options.Cell} on {result.Options.Task}").Save(Path.Combine(dir, "train-eval-loss")),
            .. TrainingStudy.GradNormFigure(runs, "Gradient norm before clipping").Save(Path.Combine(dir, "train-grad-norm")),
            .. (result.Curvature.Count > 0 ? TrainingStudy.CurvatureFigure(result).Save(Path.Combine(dir, "train-curvature")) : [])];
    }
}
