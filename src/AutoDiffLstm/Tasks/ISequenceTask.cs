using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>Which loss a task is scored with.</summary>
public enum TaskLoss
{
    /// <summary>Regression: mean squared error against <see cref="SequenceBatch{T}.RegressionTargets"/>.</summary>
    MeanSquaredError,

    /// <summary>Classification: mean cross-entropy of logits against <see cref="SequenceBatch{T}.ClassTargets"/>.</summary>
    CrossEntropy,
}

/// <summary>Where in the sequence the loss applies.</summary>
public enum LossPlacement
{
    /// <summary>Only the output after the last input step is scored (one target per sequence).</summary>
    LastStep,

    /// <summary>Every step's output is scored (one target per step and sequence, step-major: index t·B + b).</summary>
    EveryStep,
}

/// <summary>
/// The loss of a trivial predictor that ignores the inputs (or all but the current one), so that a model's loss can be
/// read against it: a model that does not beat it has learned nothing about the task's long-range structure.
/// </summary>
/// <param name="Loss">The baseline's expected loss (MSE, or cross-entropy in nats per scored output).</param>
/// <param name="Description">What the baseline predictor does and where the number comes from.</param>
/// <param name="Accuracy">Chance accuracy for classification tasks where it is meaningful; otherwise null.</param>
public sealed record TaskBaseline(double Loss, string Description, double? Accuracy = null);

/// <summary>
/// A generated sequence task: a source of batches, seeded by an <see cref="Rng"/>, plus what a model needs to know to
/// be built and scored for it. Inputs are time-major, [Steps, B, InputSize].
/// </summary>
/// <typeparam name="T"><c>float</c> or <c>double</c>.</typeparam>
public interface ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The task's registry name (e.g. "adding").</summary>
    string Name { get; }

    /// <summary>One paragraph: the definition and the paper it comes from.</summary>
    string Description { get; }

    /// <summary>The task's length parameter T as given to the constructor (its meaning is task-specific; see <see cref="Steps"/>).</summary>
    int SequenceLength { get; }

    /// <summary>The smallest <see cref="SequenceLength"/> the task accepts; smaller values throw <see cref="ArgumentException"/>.</summary>
    int MinimumSequenceLength { get; }

    /// <summary>Number of time steps of each input sequence (T for most tasks, T + 20 for copy memory).</summary>
    int Steps { get; }

    /// <summary>Features per input step.</summary>
    int InputSize { get; }

    /// <summary>Outputs the model must produce per scored step (1 for regression, the number of classes otherwise).</summary>
    int OutputSize { get; }

    /// <summary>Regression (MSE) or classification (cross-entropy).</summary>
    TaskLoss Loss { get; }

    /// <summary>Last step only, or every step.</summary>
    LossPlacement LossPlacement { get; }

    /// <summary>The chance-level reference.</summary>
    TaskBaseline Baseline { get; }

    /// <summary>A fresh batch of <paramref name="batchSize"/> independent sequences drawn from <paramref name="rng"/>.</summary>
    SequenceBatch<T> NextBatch(Rng rng, int batchSize);
}
