using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// The temporal order problem with two relevant symbols (Hochreiter &amp; Schmidhuber 1997, "Long Short-Term Memory",
/// experiment 6a). Alphabet of 8 symbols, one-hot: a, b, c, d (distractors), B, E, X, Y (ids 0..7 in that order).
/// <para>
/// In the paper a sequence starts with E, ends with B (the trigger symbol) and otherwise consists of random
/// distractors from {a, b, c, d}, except at two positions t1 and t2 that hold X or Y; the length is drawn from
/// [100, 110], t1 from [10, 20] and t2 from [50, 60]. The class, read after the last step, is the order of the two
/// relevant symbols: XX → 0, XY → 1, YX → 2, YY → 3 (the paper's Q, R, S, U). Loss: cross-entropy at the last step.
/// </para>
/// <para>
/// Simplification: one fixed length T per task (a batch has one length and there is no masking), and the windows scale
/// with T: with 1-based positions, t1 ∈ [⌈T/10⌉, ⌊T/5⌋] and t2 ∈ [⌈T/2⌉, ⌊3T/5⌋], which for T = 100 are the
/// paper's [10, 20] and [50, 60]. Windows are kept clear of the first (E) and last (B) positions. X and Y are equally
/// likely and independent, so every class has probability 1/4.
/// </para>
/// <para>Baseline: chance accuracy 0.25; predicting the uniform distribution gives cross-entropy ln 4 ≈ 1.386.</para>
/// </summary>
public sealed class TemporalOrder<T> : ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The registry name.</summary>
    public const string TaskName = "temporal-order";

    /// <summary>The symbols in id order.</summary>
    public const string Alphabet = "abcdBEXY";

    /// <summary>Ids of the special symbols.</summary>
    public const int SymbolB = 4, SymbolE = 5, SymbolX = 6, SymbolY = 7;

    /// <summary>Number of distractor symbols (a, b, c, d = ids 0..3).</summary>
    public const int Distractors = 4;

    /// <summary>Number of classes (XX, XY, YX, YY).</summary>
    public const int Classes = 4;

    /// <summary>The shortest length whose scaled windows are non-empty, ordered and clear of E and B.</summary>
    public const int MinimumLength = 10;

    /// <param name="sequenceLength">T, the number of steps (&gt;= 10; the paper used 100 to 110).</param>
    public TemporalOrder(int sequenceLength)
    {
        TaskChecks.SequenceLength("TemporalOrder", sequenceLength, MinimumLength, "T (E, two windows for X/Y, B)");
        SequenceLength = sequenceLength;
        int n = sequenceLength;
        // 1-based windows as in the paper, converted to 0-based indices; position 1 is E and position T is B.
        int lo1 = Math.Max(2, (n + 9) / 10), hi1 = Math.Max(lo1, n / 5);
        int lo2 = Math.Max(hi1 + 1, (n + 1) / 2), hi2 = Math.Min(n - 1, Math.Max(lo2, 3 * n / 5));
        FirstPositionRange = (lo1 - 1, hi1 - 1);
        SecondPositionRange = (lo2 - 1, hi2 - 1);
    }

    /// <inheritdoc/>
    public string Name => TaskName;

    /// <inheritdoc/>
    public string Description =>
        "Temporal order, 2 relevant symbols (Hochreiter & Schmidhuber 1997, exp. 6a): E, distractors from {a,b,c,d} with X or Y at " +
        "one step in [T/10, T/5] and one in [T/2, 3T/5], then B; classify the order XX/XY/YX/YY at the last step.";

    /// <inheritdoc/>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int MinimumSequenceLength => MinimumLength;

    /// <inheritdoc/>
    public int Steps => SequenceLength;

    /// <inheritdoc/>
    public int InputSize => Alphabet.Length;

    /// <inheritdoc/>
    public int OutputSize => Classes;

    /// <inheritdoc/>
    public TaskLoss Loss => TaskLoss.CrossEntropy;

    /// <inheritdoc/>
    public LossPlacement LossPlacement => LossPlacement.LastStep;

    /// <inheritdoc/>
    public TaskBaseline Baseline { get; } = new(Math.Log(Classes),
        "four equally likely classes: chance accuracy 0.25, uniform prediction cross-entropy ln 4 ≈ 1.386", Accuracy: 0.25);

    /// <summary>0-based step indices (inclusive) where the first relevant symbol may appear.</summary>
    public (int Min, int Max) FirstPositionRange { get; }

    /// <summary>0-based step indices (inclusive) where the second relevant symbol may appear.</summary>
    public (int Min, int Max) SecondPositionRange { get; }

    /// <summary>One-hot inputs [T, B, 8], their ids (step-major) and class targets [B].</summary>
    public SequenceBatch<T> NextBatch(Rng rng, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rng);
        TaskChecks.BatchSize("TemporalOrder", batchSize);
        int steps = Steps;
        var ids = new int[steps * batchSize];
        var labels = new int[batchSize];
        for (int b = 0; b < batchSize; b++)
        {
            ids[b] = SymbolE;
            for (int t = 1; t < steps - 1; t++) ids[t * batchSize + b] = rng.NextInt(Distractors);
            ids[(steps - 1) * batchSize + b] = SymbolB;
            int t1 = FirstPositionRange.Min + rng.NextInt(FirstPositionRange.Max - FirstPositionRange.Min + 1);
            int t2 = SecondPositionRange.Min + rng.NextInt(SecondPositionRange.Max - SecondPositionRange.Min + 1);
            int first = rng.NextInt(2), second = rng.NextInt(2);   // 0 = X, 1 = Y
            ids[t1 * batchSize + b] = SymbolX + first;
            ids[t2 * batchSize + b] = SymbolX + second;
            labels[b] = 2 * first + second;
        }
        var x = new T[steps * batchSize * Alphabet.Length];
        for (int r = 0; r < ids.Length; r++) x[r * Alphabet.Length + ids[r]] = T.One;
        return new SequenceBatch<T>(Tensor.FromArray(x, steps, batchSize, Alphabet.Length), ids, null, labels);
    }
}
