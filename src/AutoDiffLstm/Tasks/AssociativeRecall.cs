using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// Long-range associative recall (after Ba, Hinton, Mnih, Leibo and Ionescu 2016, "Using fast weights to attend to the
/// recent past", and the recall tasks of the state-space literature): four key-value pairs, a long stretch of blanks,
/// then a query key; the model must answer the value stored with that key.
/// <para>
/// 18 one-hot input categories: keys k0..k7 (ids 0..7), values v0..v7 (ids 8..15), the blank (16) and the query marker
/// (17). Input, T steps: 4 pairs (a key, then its value; the 4 keys distinct, values uniform with replacement) in the
/// first 8 steps, blanks, the query marker at step T-2 and one of the 4 keys (uniform) at step T-1. Target: the value
/// of the queried key, as one of 8 classes, scored at the last step only.
/// </para>
/// <para>
/// Baselines: a uniform guess over the 8 values (ln 8 nats, accuracy 1/8); a model that remembers the 4 stored values
/// but not which key each belongs to can reach ln 4 and 1/4, so a loss between ln 4 and ln 8 does not show recall.
/// </para>
/// </summary>
public sealed class AssociativeRecall<T> : ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The registry name.</summary>
    public const string TaskName = "assoc-recall";

    /// <summary>Distinct keys and distinct values in the vocabulary.</summary>
    public const int Symbols = 8;

    /// <summary>Key-value pairs per sequence.</summary>
    public const int Pairs = 4;

    /// <summary>The blank's input id.</summary>
    public const int Blank = 2 * Symbols;

    /// <summary>The query marker's input id.</summary>
    public const int Query = 2 * Symbols + 1;

    /// <summary>One-hot input width.</summary>
    public const int Categories = 2 * Symbols + 2;

    /// <param name="steps">T: 8 steps of pairs, blanks, the query marker and the query key (&gt;= 10).</param>
    public AssociativeRecall(int steps)
    {
        TaskChecks.SequenceLength("AssociativeRecall", steps, MinimumSequenceLength, "the sequence length T (4 key-value pairs, blanks, query marker, key)", nameof(steps));
        SequenceLength = steps;
        Baseline = new TaskBaseline(Math.Log(Symbols),
            "uniform guess over the 8 values: ln 8 nats, accuracy 1/8 (ln 4 and 1/4 for a model that keeps the 4 values but not their keys)",
            Accuracy: 1.0 / Symbols);
    }

    /// <inheritdoc/>
    public string Name => TaskName;

    /// <inheritdoc/>
    public string Description =>
        "Associative recall: 4 key-value pairs, blanks up to T-2, a query marker and a key; answer the key's value at the last step (cross-entropy over 8 values).";

    /// <inheritdoc/>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int MinimumSequenceLength => 2 * Pairs + 2;

    /// <inheritdoc/>
    public int Steps => SequenceLength;

    /// <inheritdoc/>
    public int InputSize => Categories;

    /// <inheritdoc/>
    public int OutputSize => Symbols;

    /// <inheritdoc/>
    public TaskLoss Loss => TaskLoss.CrossEntropy;

    /// <inheritdoc/>
    public LossPlacement LossPlacement => LossPlacement.LastStep;

    /// <inheritdoc/>
    public TaskBaseline Baseline { get; }

    /// <summary>One-hot inputs [T, B, 18], their ids (step-major) and one class target (a value 0..7) per sequence.</summary>
    public SequenceBatch<T> NextBatch(Rng rng, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rng);
        TaskChecks.BatchSize("AssociativeRecall", batchSize);
        int steps = Steps;
        var ids = new int[steps * batchSize];
        var targets = new int[batchSize];
        Array.Fill(ids, Blank);
        var keys = new int[Symbols];
        for (int b = 0; b < batchSize; b++)
        {
            for (int i = 0; i < Symbols; i++) keys[i] = i;
            var values = new int[Pairs];
            for (int p = 0; p < Pairs; p++)
            {
                int j = p + rng.NextInt(Symbols - p); // distinct keys: a partial shuffle
                (keys[p], keys[j]) = (keys[j], keys[p]);
                values[p] = rng.NextInt(Symbols);
                ids[2 * p * batchSize + b] = keys[p];
                ids[(2 * p + 1) * batchSize + b] = Symbols + values[p];
            }
            int asked = rng.NextInt(Pairs);
            ids[(steps - 2) * batchSize + b] = Query;
            ids[(steps - 1) * batchSize + b] = keys[asked];
            targets[b] = values[asked];
        }
        var x = new T[steps * batchSize * Categories];
        for (int r = 0; r < ids.Length; r++) x[r * Categories + ids[r]] = T.One;
        return new SequenceBatch<T>(Tensor.FromArray(x, steps, batchSize, Categories), ids, null, targets);
    }
}
