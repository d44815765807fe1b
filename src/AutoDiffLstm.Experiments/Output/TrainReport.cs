using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Output;

/// <summary>
/// The result of one <c>adl train</c> run as written to train-result.json and printed by <c>--json</c> (keys in
/// snake_case through <see cref="ResultFiles.JsonOptions"/>; documented in docs/json-schema.md). A typed record, not an
/// anonymous object, so that tools reading these files (a sweep collecting runs) deserialize the same shape.
/// </summary>
public sealed record TrainReport
{
    /// <summary>The held-out loss must fall below this fraction of the chance baseline's for a run to count as having beaten chance.</summary>
    public const double ChanceMargin = 0.9;

    /// <summary>"completed", "diverged" or "interrupted".</summary>
    public required string Status { get; init; }
    /// <summary>Why the run stopped early (the divergence message, or the signal); null when it completed.</summary>
    public string? Failure { get; init; }
    /// <summary>The run's options.</summary>
    public required TrainingOptions Options { get; init; }
    /// <summary>Steps completed.</summary>
    public int CompletedSteps { get; init; }
    /// <summary>The last held-out loss; null when the run stopped before its first evaluation.</summary>
    public double? FinalLoss { get; init; }
    /// <summary>The last held-out accuracy (classification tasks), else null.</summary>
    public double? FinalAccuracy { get; init; }
    /// <summary>The chance baseline's loss on the task (e.g. always predicting the mean).</summary>
    public double BaselineLoss { get; init; }
    /// <summary>The chance baseline's accuracy (classification tasks), else null.</summary>
    public double? BaselineAccuracy { get; init; }
    /// <summary>What the chance baseline is.</summary>
    public required string Baseline { get; init; }
    /// <summary>Whether the final held-out loss is below <see cref="ChanceMargin"/> times the baseline's; null without a final loss.</summary>
    public bool? BeatChance { get; init; }
    /// <summary>Training steps per second over the completed steps (evaluations excluded).</summary>
    public double StepsPerSecond { get; init; }
    /// <summary>Threads used for products.</summary>
    public int Threads { get; init; }
    /// <summary>Trainable parameters.</summary>
    public int Parameters { get; init; }
    /// <summary>The estimated peak memory of a training step, in bytes (see <see cref="MemoryEstimate"/>).</summary>
    public long? MemoryEstimateBytes { get; init; }
    /// <summary>Every evaluation.</summary>
    public required IReadOnlyList<EvalRecord> Evaluations { get; init; }
    /// <summary>Training loss of every step.</summary>
    public required IReadOnlyList<double> Losses { get; init; }
    /// <summary>Gradient norm before clipping of every step.</summary>
    public required IReadOnlyList<double> GradNorms { get; init; }

    /// <summary>Every Hessian-free step's damping, CG iterations, reduction ratio and step size (empty for other optimizers).</summary>
    public IReadOnlyList<HessianFreeRecord> HessianFree { get; init; } = [];
    /// <summary>The curvature measurements of --curvature-every (empty when off).</summary>
    public IReadOnlyList<CurvatureRecord> Curvature { get; init; } = [];

    /// <summary>The report of <paramref name="result"/>.</summary>
    public static TrainReport From(TrainingResult result, string status, string? failure, int threads, long? memoryEstimate)
    {
        double? final = result.LastEvaluation?.Loss;
        return new TrainReport
        {
            Status = status, Failure = failure, Options = result.Options, CompletedSteps = result.Steps.Count,
            FinalLoss = final, FinalAccuracy = result.LastEvaluation?.Accuracy, BaselineLoss = result.BaselineLoss,
            BaselineAccuracy = result.BaselineAccuracy, Baseline = result.BaselineDescription,
            BeatChance = final is double f ? BeatsChance(f, result.BaselineLoss) : null,
            StepsPerSecond = result.StepsPerSecond, Threads = threads, Parameters = result.ParameterCount, MemoryEstimateBytes = memoryEstimate,
            Evaluations = result.Evaluations, Losses = result.Steps.Select(s => s.Loss).ToArray(), GradNorms = result.Steps.Select(s => s.GradNorm).ToArray(),
            HessianFree = result.HessianFree, Curvature = result.Curvature,
        };
    }

    /// <summary>The rule: a finite loss below <see cref="ChanceMargin"/> x the baseline's (0.1664 against 0.1667 is chance, not learning).</summary>
    public static bool BeatsChance(double loss, double baselineLoss) => double.IsFinite(loss) && loss < ChanceMargin * baselineLoss;
}
