using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// The adding problem in its two-channel form (Le, Jaitly &amp; Hinton 2015, "A Simple Way to Initialize Recurrent
/// Networks of Rectified Linear Units"; Arjovsky, Shah &amp; Bengio 2016, "Unitary Evolution Recurrent Neural
/// Networks"), derived from experiment 4 (the adding problem) of Hochreiter &amp; Schmidhuber 1997, "Long Short-Term Memory".
/// <para>
/// Each of the T input steps has two channels: channel 0 a value drawn uniformly from [0, 1), channel 1 a marker that
/// is 0 everywhere except at exactly two steps, where it is 1: one step drawn uniformly from the first half
/// [0, ⌊T/2⌋) and one from the second half [⌊T/2⌋, T). The target, read after the last step, is the sum of the two
/// marked values. Loss: MSE at the last step.
/// </para>
/// <para>
/// Baseline: always predicting 1, the mean of the sum of two independent U(0, 1) values, has expected MSE equal to the
/// sum's variance, 2 · 1/12 = 1/6 ≈ 0.167.
/// </para>
/// <para>
/// Differences from the 1997 original, which used values in [−1, 1], −1 markers on the first and last steps, the first
/// mark among the first ten steps, lengths drawn from [T, 1.1 T] and the target 0.5 + (X1 + X2)/4: this is the modern
/// benchmark form, with one fixed length T per task.
/// </para>
/// </summary>
public sealed class AddingProblem<T> : ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The registry name.</summary>
    public const string TaskName = "adding";

    /// <summary>T must be at least 2 so that each half holds a step.</summary>
    public const int MinimumLength = 2;

    /// <param name="sequenceLength">T, the number of steps (&gt;= 2).</param>
    public AddingProblem(int sequenceLength)
    {
        TaskChecks.SequenceLength("AddingProblem", sequenceLength, MinimumLength, "T (the number of steps, one marker in each half)");
        SequenceLength = sequenceLength;
    }

    /// <inheritdoc/>
    public string Name => TaskName;

    /// <inheritdoc/>
    public string Description =>
        "Adding problem (Le et al. 2015; Arjovsky et al. 2016; after Hochreiter & Schmidhuber 1997): channel 0 holds U[0,1) values, " +
        "channel 1 marks exactly two steps, one in each half; output the sum of the two marked values after the last step (MSE).";

    /// <inheritdoc/>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int MinimumSequenceLength => MinimumLength;

    /// <inheritdoc/>
    public int Steps => SequenceLength;

    /// <inheritdoc/>
    public int InputSize => 2;

    /// <inheritdoc/>
    public int OutputSize => 1;

    /// <inheritdoc/>
    public TaskLoss Loss => TaskLoss.MeanSquaredError;

    /// <inheritdoc/>
    public LossPlacement LossPlacement => LossPlacement.LastStep;

    /// <inheritdoc/>
    public TaskBaseline Baseline { get; } = new(1.0 / 6.0,
        "predict the constant 1 (the mean of the sum of two U(0,1) values): expected MSE = Var(X1 + X2) = 2/12 = 1/6 ≈ 0.167");

    /// <summary>The first half of the steps, [0, FirstHalfEnd), holds the first marker; [FirstHalfEnd, T) the second.</summary>
    public int FirstHalfEnd => SequenceLength / 2;

    /// <summary>Inputs [T, B, 2] and targets [B, 1].</summary>
    public SequenceBatch<T> NextBatch(Rng rng, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rng);
        TaskChecks.BatchSize("AddingProblem", batchSize);
        int steps = SequenceLength, half = FirstHalfEnd;
        var x = new T[steps * batchSize * 2];
        var y = new T[batchSize];
        for (int b = 0; b < batchSize; b++)
        {
            for (int t = 0; t < steps; t++) x[(t * batchSize + b) * 2] = UnitUniform(rng);
            int first = rng.NextInt(half), second = half + rng.NextInt(steps - half);
            x[(first * batchSize + b) * 2 + 1] = T.One;
            x[(second * batchSize + b) * 2 + 1] = T.One;
            // Sum the stored (already rounded) values so the target is exactly what the inputs say, also for float.
            y[b] = x[(first * batchSize + b) * 2] + x[(second * batchSize + b) * 2];
        }
        return new SequenceBatch<T>(Tensor.FromArray(x, steps, batchSize, 2), null, Tensor.FromArray(y, batchSize, 1), null);
    }

    // A double just below 1 rounds to 1.0f; keep float values inside [0, 1) as the definition says.
    private static T UnitUniform(Rng rng)
    {
        var v = T.CreateTruncating(rng.NextDouble());
        return v < T.One ? v : T.BitDecrement(T.One);
    }
}
