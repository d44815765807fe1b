using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// One batch of a <see cref="ISequenceTask{T}"/>: time-major inputs and either regression or class targets.
/// Class targets are step-major (the target of step t of sequence b is at t·B + b), which is the row order of logits
/// [Steps, B, C] reshaped to [Steps·B, C], so <c>logits.Reshape(-1, C).CrossEntropy(ClassTargets)</c> lines up.
/// </summary>
public sealed class SequenceBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a batch; exactly one of <paramref name="regressionTargets"/> and <paramref name="classTargets"/> must be given.</summary>
    public SequenceBatch(Tensor<T> inputs, int[]? inputIds, Tensor<T>? regressionTargets, int[]? classTargets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Rank != 3)
            throw new ArgumentException($"SequenceBatch: inputs must have shape [steps, batch, features], got {inputs.ShapeText}.", nameof(inputs));
        if ((regressionTargets is null) == (classTargets is null))
            throw new ArgumentException("SequenceBatch: exactly one of regressionTargets and classTargets must be given.");
        Inputs = inputs;
        InputIds = inputIds;
        RegressionTargets = regressionTargets;
        ClassTargets = classTargets;
    }

    /// <summary>Inputs [Steps, B, InputSize].</summary>
    public Tensor<T> Inputs { get; }

    /// <summary>For symbol tasks, the symbol id behind each one-hot input row, step-major ([Steps·B]); null for real-valued inputs.
    /// Feed these to an embedding instead of the one-hot <see cref="Inputs"/> if preferred.</summary>
    public int[]? InputIds { get; }

    /// <summary>Regression targets [B, OutputSize] (MSE tasks), else null.</summary>
    public Tensor<T>? RegressionTargets { get; }

    /// <summary>Class ids: [B] for last-step tasks, [Steps·B] step-major for every-step tasks; null for regression.</summary>
    public int[]? ClassTargets { get; }

    /// <summary>Number of time steps.</summary>
    public int Steps => Inputs.Shape[0];

    /// <summary>Number of sequences.</summary>
    public int BatchSize => Inputs.Shape[1];
}
