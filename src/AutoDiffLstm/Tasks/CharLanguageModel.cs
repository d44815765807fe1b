using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>
/// Character-level language modelling (as in Graves 2013, "Generating Sequences With Recurrent Neural Networks", and
/// Karpathy, Johnson &amp; Fei-Fei 2016, "Visualizing and Understanding Recurrent Networks") on a small text: each
/// sequence is a window of T characters drawn at a uniformly random offset, and the target at every step is the next
/// character. The vocabulary is the sorted set of distinct characters of the text. Loss: cross-entropy at every step.
/// <para>
/// The default corpus is the United States Declaration of Independence (1776, public domain; about 8 KB, shipped as
/// an embedded resource), so nothing is downloaded.
/// </para>
/// <para>
/// Baselines, in nats per character: the uniform guess, ln V; and the better memoryless predictor, the unigram
/// distribution of the text, whose cross-entropy on the text is its unigram entropy H = −Σ_c p(c) ln p(c)
/// (<see cref="Baseline"/>). A model below H uses context.
/// </para>
/// </summary>
public sealed class CharLanguageModel<T> : ISequenceTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The registry name.</summary>
    public const string TaskName = "char-lm";

    /// <summary>The smallest window.</summary>
    public const int MinimumLength = 1;

    private readonly int[] encoded;
    private readonly Dictionary<char, int> index;

    /// <summary>A task over the shipped public-domain corpus (<see cref="CorpusText.DeclarationOfIndependence"/>).</summary>
    /// <param name="sequenceLength">T, the window length in characters (1 to the text length − 1).</param>
    public CharLanguageModel(int sequenceLength) : this(CorpusText.DeclarationOfIndependence, sequenceLength) { }

    /// <summary>A task over any text.</summary>
    /// <param name="text">The corpus; at least two characters.</param>
    /// <param name="sequenceLength">T, the window length in characters (1 to text length − 1).</param>
    public CharLanguageModel(string text, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 2)
            throw new ArgumentException($"CharLanguageModel: the text has {text.Length} characters; at least 2 are needed (an input and its next character).", nameof(text));
        TaskChecks.SequenceLength("CharLanguageModel", sequenceLength, MinimumLength, "the window length T");
        if (sequenceLength > text.Length - 1)
            throw new ArgumentException($"CharLanguageModel: sequence length {sequenceLength} is too long for a text of {text.Length} characters; " +
                $"a window and its next-character targets need T <= {text.Length - 1}.", nameof(sequenceLength));
        Text = text;
        SequenceLength = sequenceLength;
        Vocabulary = new string(text.Distinct().Order().ToArray());
        index = new Dictionary<char, int>(Vocabulary.Length);
        for (int i = 0; i < Vocabulary.Length; i++) index[Vocabulary[i]] = i;
        encoded = Encode(text);

        var counts = new int[Vocabulary.Length];
        foreach (int id in encoded) counts[id]++;
        double entropy = 0;
        foreach (int c in counts)
        {
            double p = (double)c / encoded.Length;
            entropy -= p * Math.Log(p);
        }
        UnigramEntropy = entropy;
        UniformCrossEntropy = Math.Log(Vocabulary.Length);
        Baseline = new TaskBaseline(UnigramEntropy,
            $"unigram predictor (character frequencies of the text): entropy {UnigramEntropy:F4} nats/char; " +
            $"uniform guess over V = {Vocabulary.Length}: ln V = {UniformCrossEntropy:F4} nats/char",
            Accuracy: (double)counts.Max() / encoded.Length);
    }

    /// <summary>The corpus.</summary>
    public string Text { get; }

    /// <summary>The distinct characters of the text, sorted by code point; a character's id is its index here.</summary>
    public string Vocabulary { get; }

    /// <summary>Entropy of the text's character frequencies, in nats: the cross-entropy of the best context-free predictor.</summary>
    public double UnigramEntropy { get; }

    /// <summary>ln V, the cross-entropy of a uniform guess.</summary>
    public double UniformCrossEntropy { get; }

    /// <inheritdoc/>
    public string Name => TaskName;

    /// <inheritdoc/>
    public string Description =>
        $"Character-level language model on a {Text.Length}-character public-domain text (V = {Vocabulary.Length}): " +
        "random windows of T characters, predict the next character at every step (cross-entropy).";

    /// <inheritdoc/>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int MinimumSequenceLength => MinimumLength;

    /// <inheritdoc/>
    public int Steps => SequenceLength;

    /// <inheritdoc/>
    public int InputSize => Vocabulary.Length;

    /// <inheritdoc/>
    public int OutputSize => Vocabulary.Length;

    /// <inheritdoc/>
    public TaskLoss Loss => TaskLoss.CrossEntropy;

    /// <inheritdoc/>
    public LossPlacement LossPlacement => LossPlacement.EveryStep;

    /// <summary>The unigram entropy; the description also gives ln V. Accuracy: always guessing the most frequent character.</summary>
    public TaskBaseline Baseline { get; }

    /// <summary>Character ids of <paramref name="s"/>; throws for a character outside the vocabulary.</summary>
    public int[] Encode(string s)
    {
        var ids = new int[s.Length];
        for (int i = 0; i < s.Length; i++)
            ids[i] = index.TryGetValue(s[i], out int id) ? id
                : throw new ArgumentException($"CharLanguageModel.Encode: character '{s[i]}' (U+{(int)s[i]:X4}) at index {i} is not in the vocabulary of {Vocabulary.Length} characters.", nameof(s));
        return ids;
    }

    /// <summary>The text of a sequence of ids.</summary>
    public string Decode(IEnumerable<int> ids) => new(ids.Select(id => Vocabulary[id]).ToArray());

    /// <summary>One-hot inputs [T, B, V], their ids and next-character targets [T·B], both step-major.</summary>
    public SequenceBatch<T> NextBatch(Rng rng, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(rng);
        TaskChecks.BatchSize("CharLanguageModel", batchSize);
        int steps = SequenceLength, v = Vocabulary.Length;
        var ids = new int[steps * batchSize];
        var targets = new int[steps * batchSize];
        for (int b = 0; b < batchSize; b++)
        {
            int start = rng.NextInt(encoded.Length - steps);   // start + steps <= length - 1: the last target exists
            for (int t = 0; t < steps; t++)
            {
                ids[t * batchSize + b] = encoded[start + t];
                targets[t * batchSize + b] = encoded[start + t + 1];
            }
        }
        var x = new T[steps * batchSize * v];
        for (int r = 0; r < ids.Length; r++) x[r * v + ids[r]] = T.One;
        return new SequenceBatch<T>(Tensor.FromArray(x, steps, batchSize, v), ids, null, targets);
    }
}
