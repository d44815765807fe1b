using System.Globalization;
using System.Text.Json;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>The options of one swept <c>adl gradflow</c> run that its result file repeats, to check a folder belongs to its run.</summary>
/// <param name="SequenceLength">--seq-len.</param>
/// <param name="Hidden">--hidden.</param>
/// <param name="Batch">--batch.</param>
public sealed record GradFlowRunOptions(int SequenceLength, int Hidden, int Batch);

/// <summary>One curve of <c>gradflow.json</c>: ||dL/dh_t|| from a loss at the last step back to the first.</summary>
public sealed record GradFlowCurveSummary
{
    /// <summary>The curve's label (the cell, or "rho = 1.2").</summary>
    public string Curve { get; init; } = "";
    /// <summary>||dL/dh_T|| at the step of the loss.</summary>
    public double GradNormAtLoss { get; init; }
    /// <summary>||dL/dh_1|| at the first step.</summary>
    public double GradNormAtFirstStep { get; init; }
    /// <summary>(log10 ||dL/dh_1|| - log10 ||dL/dh_T||) / (T - 1): negative when the gradient vanishes going back, positive when it explodes.</summary>
    public double Log10ChangePerStep { get; init; }
    /// <summary>Steps back until the norm is below 1e-3 of the one at the loss (null: never within the sequence).</summary>
    public int? StepsUntil1e3 { get; init; }
}

/// <summary>What <c>adl gradflow --json</c> writes to gradflow.json: the part a study reads.</summary>
public sealed record GradFlowRunSummary
{
    /// <summary>--seq-len.</summary>
    public int SeqLen { get; init; }
    /// <summary>--hidden.</summary>
    public int Hidden { get; init; }
    /// <summary>--batch.</summary>
    public int Batch { get; init; }
    /// <summary>One entry per measured curve (a swept run measures one).</summary>
    public GradFlowCurveSummary[] Curves { get; init; } = [];

    /// <summary>log10 (||dL/dh_1|| / ||dL/dh_T||) of the run's curve: how many orders of magnitude the gradient lost (negative) or gained over the sequence.</summary>
    public double Log10FirstOverLoss => Math.Log10(Curves[0].GradNormAtFirstStep) - Math.Log10(Curves[0].GradNormAtLoss);
}

/// <summary>
/// Runs of <c>adl gradflow</c>, one curve each (one cell, or one spectral radius of the tanh RNN): compared by
/// |log10 change of ||dL/dh_t|| per step back| (0: the gradient keeps its scale; larger: it vanishes or explodes faster),
/// and "preserved" when the gradient at the first step is within <see cref="PreservedDecades"/> orders of magnitude of the
/// one at the loss. A run without checkpoints: a stopped run simply runs again.
/// </summary>
internal sealed class GradFlowSweep : SweptCommand
{
    /// <summary>Orders of magnitude ||dL/dh_1|| may differ from ||dL/dh_T|| for the gradient to count as preserved.</summary>
    public const double PreservedDecades = 3;

    public override string Name => "gradflow";

    public override bool Resumable => false;

    public override StudyMetric Metric { get; } = new("abs log10 change/step", "the absolute log10 change of ||dL/dh_t|| per step", "abs. log10 change of ||dL/dh_t|| per step back (lower: better preserved)",
        "abs log10 change/step = abs(log10 ||dL/dh_1|| - log10 ||dL/dh_T||) / (T - 1), how fast the gradient leaves its scale going back (a run whose norms overflowed counts as diverged and is left out)",
        "preserved", $"preserved: ||dL/dh_1|| within {PreservedDecades} orders of magnitude of ||dL/dh_T||");

    // adl gradflow names its files after what it measured: "gradflow-radius-sweep" with --radii, "gradflow" otherwise.
    public override string ResultFile(PlannedRun run) => run.Args.Contains("--radii") ? "gradflow-radius-sweep.json" : "gradflow.json";

    public override int CheckpointEvery(StudySpec spec, object options) => 0;

    public override IReadOnlyList<string> ProcessArgs(string runDir, PlannedRun run, int threads) =>
        ["gradflow", .. run.Args, "--out", runDir, "--json", "--threads", threads.ToString(CultureInfo.InvariantCulture)];

    public override RunOutcome Read(string runDir, PlannedRun run, int code)
    {
        var options = (GradFlowRunOptions)run.Options;
        string resultPath = Path.Combine(runDir, ResultFile(run));
        if (code != 0) return new RunOutcome(RunStatus.Failed, code, null, $"exit code {code}{RunFolder.LogTail(runDir)}");
        if (!File.Exists(resultPath)) return new RunOutcome(RunStatus.Failed, code, null, $"exit code 0 and no {Path.GetFileName(resultPath)}{RunFolder.LogTail(runDir)}");
        GradFlowRunSummary result;
        try { result = RunFolder.ReadJson<GradFlowRunSummary>(resultPath); }
        catch (Exception e) when (e is JsonException or InvalidDataException) { return new RunOutcome(RunStatus.Failed, code, null, $"{resultPath} cannot be read: {e.Message}"); }
        if (new GradFlowRunOptions(result.SeqLen, result.Hidden, result.Batch) != options)
            return new RunOutcome(RunStatus.Failed, code, null, $"{resultPath} holds a run with other options than the study's run {run.Index}");
        if (result.Curves.Length != 1)
            return new RunOutcome(RunStatus.Failed, code, null, $"{resultPath} holds {result.Curves.Length} curves; a swept gradflow run measures one");
        // Norms that overflowed (a large spectral radius) leave no finite rate: kept as an outcome, like a diverged training run.
        var status = double.IsFinite(result.Curves[0].Log10ChangePerStep) && double.IsFinite(result.Log10FirstOverLoss) ? RunStatus.Done : RunStatus.Diverged;
        return new RunOutcome(status, code, null, null) { GradFlow = result };
    }

    public override IReadOnlyList<string> ResultColumns { get; } = ["seq_len", "grad_norm_at_loss", "grad_norm_at_first_step", "log10_change_per_step", "log10_first_over_loss", "steps_until_1e_3"];

    public override string ResultsNote =>
        "log10_change_per_step = (log10 ||dL/dh_1|| - log10 ||dL/dh_T||) / (T - 1); log10_first_over_loss = log10 ||dL/dh_1|| - log10 ||dL/dh_T||; steps_until_1e_3: steps back until the norm is below 1e-3 of the one at the loss (empty: never).";

    public override IReadOnlyList<object?> ResultCells(StudyRow row)
    {
        if (row.Outcome.GradFlow is not { } g) return [null, null, null, null, null, null];
        var c = g.Curves[0];
        return [g.SeqLen, c.GradNormAtLoss, c.GradNormAtFirstStep, Finite(c.Log10ChangePerStep), Finite(g.Log10FirstOverLoss), c.StepsUntil1e3];
    }

    /// <summary>The run's quality: |log10 change per step|, or null when it is not finite.</summary>
    public static double? Quality(GradFlowRunSummary g) => g.Curves.Length == 1 && Finite(g.Curves[0].Log10ChangePerStep) is double d ? Math.Abs(d) : null;

    /// <summary>Whether the run's gradient at the first step is within <see cref="PreservedDecades"/> of the one at the loss.</summary>
    public static bool Preserved(GradFlowRunSummary g) => g.Curves.Length == 1 && Math.Abs(g.Log10FirstOverLoss) < PreservedDecades;

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
