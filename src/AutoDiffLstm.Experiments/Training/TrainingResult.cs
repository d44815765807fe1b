namespace AutoDiffLstm.Experiments.Training;

/// <summary>One optimizer step: the training loss, the global gradient norm before clipping, the learning rate used.</summary>
public readonly record struct StepRecord(int Step, double Loss, double GradNorm, double LearningRate, double Seconds);

/// <summary>An evaluation on the fixed held-out batch.</summary>
public readonly record struct EvalRecord(int Step, double Loss, double? Accuracy);

/// <summary>What a run produced, with the task's chance-level baseline to read it against.</summary>
public sealed record TrainingResult(
    TrainingOptions Options, IReadOnlyList<StepRecord> Steps, IReadOnlyList<EvalRecord> Evaluations,
    double BaselineLoss, string BaselineDescription, double? BaselineAccuracy, int ParameterCount)
{
    /// <summary>The last evaluation; throws when there is none (a run that diverged before its first evaluation).</summary>
    public EvalRecord Final => LastEvaluation
        ?? throw new InvalidOperationException($"The {Options.Cell} run on {Options.Task} has no evaluation: it stopped after {Steps.Count} steps, before the first one.");

    /// <summary>The last evaluation, or null when the run stopped before its first one.</summary>
    public EvalRecord? LastEvaluation => Evaluations.Count > 0 ? Evaluations[^1] : null;

    /// <summary>The internals of every Hessian-free step (empty for first-order optimizers).</summary>
    public IReadOnlyList<HessianFreeRecord> HessianFree { get; init; } = [];

    /// <summary>The curvature measurements (<see cref="TrainingOptions.CurvatureEvery"/>; empty when off).</summary>
    public IReadOnlyList<CurvatureRecord> Curvature { get; init; } = [];

    /// <summary>Training steps per second over the whole run.</summary>
    public double StepsPerSecond => Steps.Count == 0 ? 0 : Steps.Count / Math.Max(1e-9, Steps.Sum(s => s.Seconds));
}

/// <summary>
/// Thrown when training diverges: the loss or the gradient norm is NaN or infinite, or (with
/// <see cref="Trainer{T}.ExplodingLossFactor"/>) the loss exceeds that many times the first step's. Training stops
/// with the step and a hint.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    private const string Hint = "Lower the learning rate (--lr) or clip the gradient norm (--clip, e.g. 1.0).";

    /// <summary>A non-finite loss, or a finite loss with a non-finite gradient norm.</summary>
    public TrainingDivergedException(int step, double loss, double gradNorm)
        : base(System.FormattableString.Invariant($"Training diverged at step {step}: ") +
               // A non-finite loss stops the step before backward, so there is no gradient norm to report.
               (double.IsFinite(loss) ? System.FormattableString.Invariant($"the loss is {loss:G6} but the gradient norm is {gradNorm}. ") : $"the loss is {loss}. ") + Hint)
        => (Step, Loss) = (step, loss);

    /// <summary>A finite loss more than <paramref name="factor"/> times the first step's <paramref name="firstLoss"/>.</summary>
    public TrainingDivergedException(int step, double loss, double firstLoss, double factor)
        : base(System.FormattableString.Invariant($"Training diverged at step {step}: the loss {loss:G4} is more than {factor:G4} times the first step's {firstLoss:G4}. ") + Hint)
        => (Step, Loss) = (step, loss);

    /// <summary>The step that diverged.</summary>
    public int Step { get; }

    /// <summary>That step's loss.</summary>
    public double Loss { get; }
}
