using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// Selective copying (Gu and Dao 2023, "Mamba: linear-time sequence modeling with selective state spaces", Section
/// 3.1): the copy task with the symbols to remember at random positions, so that a model must decide from the content,
/// not from the time step, what to keep. Ten categories as in <see cref="CopyMemory{T}"/>: a0..a7 data, a8 the blank
/// (noise), a9 the delimiter.
/// <para>
/// Input, T + 1 + 10 steps: T steps that are blanks except 10 data symbols (uniform over a0..a7, with replacement) at
/// 10 distinct positions drawn uniformly among the T, then the delimiter, then 10 blanks. Target, every step: blanks
/// until the delimiter (included), then the 10 symbols in the order they appeared. Loss: cross-entropy at every step.
/// </para>
/// <para>
/// Baseline (memoryless, as for copy memory): blanks up to the delimiter (loss 0), a uniform guess over the 8 data
/// symbols for the last 10 steps: 10 ln 8 / (T + 11) nats per step. Gu and Dao use 16 symbols and T = 4,096; these sizes
/// keep the task trainable on two cores.
/// </para>
/// </summary>
public sealed class SelectiveCopying<T> : ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The registry name.</summary>
    public const string TaskName = "selective-copy";

    /// <summary>How many symbols are copied.</summary>
    public const int CopyLength = CopyMemory<T>.CopyLength;

    /// <param name="contentSteps">T, the steps holding the 10 symbols among blanks (&gt;= 10).</param>
    public SelectiveCopying(int contentSteps)
    {
        TaskChecks.SequenceLength("SelectiveCopying", contentSteps, CopyLength, "the content length T (10 symbols at random positions among T steps)", nameof(contentSteps));
        SequenceLength = contentSteps;
        double loss = CopyLength * Math.Log(CopyMemory<T>.DataSymbols) / Steps;
        Baseline = new TaskBaseline(loss,
            $"memoryless strategy: blank until the delimiter, uniform over the 8 symbols for the last 10 steps: 10 ln 8 / (T + 11) = {loss:G6} nats per step at T = {contentSteps}");
    }

    /// <inheritdoc/>
    public string Name => TaskName;

    /// <inheritdoc/>
    public string Description =>
        "Selective copying (Gu and Dao 2023): 10 symbols from 8 at random positions among T blanks, a delimiter, 10 blanks; " +
        "reproduce the symbols in order after the delimiter (cross-entropy at every one of the T+11 steps).";

    /// <inheritdoc/>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int MinimumSequenceLength => CopyLength;

    /// <inheritdoc/>
    public int Steps => SequenceLength + 1 + CopyLength;

    /// <inheritdoc/>
    public int InputSize => CopyMemory<T>.Classes;

    /// <inheritdoc/>
    public int OutputSize => CopyMemory<T>.Classes;

    /// <inheritdoc/>
    public TaskLoss Loss => TaskLoss.CrossEntropy;

    /// <inheritdoc/>
    public LossPlacement LossPlacement => LossPlacement.EveryStep;

    /// <inheritdoc/>
    public TaskBaseline Baseline { get; }

    /// <summary>One-hot inputs [T+11, B, 10], their ids and class targets [(T+11)·B], both step-major.</summary>
    public SequenceBatch<T> NextBatch(Rng rng, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rng);
        TaskChecks.BatchSize("SelectiveCopying", batchSize);
        int steps = Steps, content = SequenceLength;
        var ids = new int[steps * batchSize];
        var targets = new int[steps * batchSize];
        Array.Fill(ids, CopyMemory<T>.Blank);
        Array.Fill(targets, CopyMemory<T>.Blank);
        var positions = new int[content];
        for (int b = 0; b < batchSize; b++)
        {
            // The first 10 of a partial Fisher-Yates shuffle: 10 distinct positions, uniformly, then in time order.
            for (int i = 0; i < content; i++) positions[i] = i;
            for (int i = 0; i < CopyLength; i++)
            {
                int j = i + rng.NextInt(content - i);
                (positions[i], positions[j]) = (positions[j], positions[i]);
            }
            var chosen = positions[..CopyLength];
            Array.Sort(chosen);
            for (int i = 0; i < CopyLength; i++)
            {
                int symbol = rng.NextInt(CopyMemory<T>.DataSymbols);
                ids[chosen[i] * batchSize + b] = symbol;
                targets[(content + 1 + i) * batchSize + b] = symbol;
            }
            ids[content * batchSize + b] = CopyMemory<T>.Delimiter;
        }
        var x = new T[steps * batchSize * CopyMemory<T>.Classes];
        for (int r = 0; r < ids.Length; r++) x[r * CopyMemory<T>.Classes + ids[r]] = T.One;
        return new SequenceBatch<T>(Tensor.FromArray(x, steps, batchSize, CopyMemory<T>.Classes), ids, null, targets);
    }
}
