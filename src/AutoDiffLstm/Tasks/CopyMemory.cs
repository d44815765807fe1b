using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// The copying memory problem (Arjovsky, Shah &amp; Bengio 2016, "Unitary Evolution Recurrent Neural Networks", after
/// Hochreiter &amp; Schmidhuber 1997). Ten categories a0..a9: a0..a7 are data symbols, a8 the
/// blank, a9 the delimiter.
/// <para>
/// Input, T + 20 steps: 10 symbols drawn uniformly, independently and with replacement from a0..a7, then T − 1 blanks,
/// one delimiter, then 10 blanks. Target, every step: blanks for the first T + 10 steps, then the 10 input symbols in
/// order. Loss: cross-entropy at every step, averaged over all T + 20 steps.
/// </para>
/// <para>
/// Baseline (the paper's memoryless strategy): predict the blank for the first T + 10 steps (loss 0) and a uniform
/// guess over the 8 data symbols for the last 10 (loss ln 8 each), so the mean cross-entropy is 10 ln 8 / (T + 20).
/// </para>
/// </summary>
public sealed class CopyMemory<T> : ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The registry name.</summary>
    public const string TaskName = "copy";

    /// <summary>Number of data symbols (a0..a7).</summary>
    public const int DataSymbols = 8;

    /// <summary>The blank's class id (a8).</summary>
    public const int Blank = 8;

    /// <summary>The delimiter's class id (a9).</summary>
    public const int Delimiter = 9;

    /// <summary>Number of classes, and the one-hot input width.</summary>
    public const int Classes = 10;

    /// <summary>How many symbols are copied.</summary>
    public const int CopyLength = 10;

    /// <summary>T must be at least 1 (T − 1 blanks between the symbols and the delimiter).</summary>
    public const int MinimumLength = 1;

    /// <param name="delay">T, the delay: the delimiter comes T steps after the last symbol to remember (&gt;= 1).</param>
    public CopyMemory(int delay)
    {
        TaskChecks.SequenceLength("CopyMemory", delay, MinimumLength, "the delay T (T - 1 blanks, then the delimiter)", nameof(delay));
        SequenceLength = delay;
        Baseline = new TaskBaseline(CopyLength * Math.Log(DataSymbols) / (delay + 2 * CopyLength),
            $"memoryless strategy (Arjovsky et al. 2016): blank for the first T+10 steps, uniform over the 8 symbols for the last 10: " +
            $"10 ln 8 / (T + 20) = {CopyLength * Math.Log(DataSymbols) / (delay + 2 * CopyLength):G6} nats per step at T = {delay}",
            Accuracy: null);
    }

    /// <inheritdoc/>
    public string Name => TaskName;

    /// <inheritdoc/>
    public string Description =>
        "Copy memory (Arjovsky et al. 2016): 10 symbols from 8, T-1 blanks, a delimiter, 10 blanks; reproduce the 10 symbols " +
        "after the delimiter, blanks before (cross-entropy at every one of the T+20 steps).";

    /// <inheritdoc/>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int MinimumSequenceLength => MinimumLength;

    /// <inheritdoc/>
    public int Steps => SequenceLength + 2 * CopyLength;

    /// <inheritdoc/>
    public int InputSize => Classes;

    /// <inheritdoc/>
    public int OutputSize => Classes;

    /// <inheritdoc/>
    public TaskLoss Loss => TaskLoss.CrossEntropy;

    /// <inheritdoc/>
    public LossPlacement LossPlacement => LossPlacement.EveryStep;

    /// <inheritdoc/>
    public TaskBaseline Baseline { get; }

    /// <summary>One-hot inputs [T+20, B, 10], their ids and class targets [(T+20)·B], both step-major.</summary>
    public SequenceBatch<T> NextBatch(Rng rng, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rng);
        TaskChecks.BatchSize("CopyMemory", batchSize);
        int steps = Steps, delimiterStep = CopyLength + SequenceLength - 1, recallStart = SequenceLength + CopyLength;
        var ids = new int[steps * batchSize];
        var targets = new int[steps * batchSize];
        for (int b = 0; b < batchSize; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                ids[t * batchSize + b] = t < CopyLength ? rng.NextInt(DataSymbols) : t == delimiterStep ? Delimiter : Blank;
                targets[t * batchSize + b] = t < recallStart ? Blank : ids[(t - recallStart) * batchSize + b];
            }
        }
        var x = new T[steps * batchSize * Classes];
        for (int r = 0; r < ids.Length; r++) x[r * Classes + ids[r]] = T.One;
        return new SequenceBatch<T>(Tensor.FromArray(x, steps, batchSize, Classes), ids, null, targets);
    }
}
