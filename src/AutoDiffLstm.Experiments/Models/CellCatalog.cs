using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Models;

/// <summary>
/// The recurrent architectures the command line and the experiments know by name. Each entry builds a
/// <see cref="RecurrentLayer{T}"/>; unknown names get an error listing the valid ones.
/// </summary>
public static class CellCatalog
{
    private sealed record Entry(string Name, string Description);

    private static readonly Entry[] entries =
    [
        new("rnn", "Elman RNN, tanh (Elman 1990)"),
        new("rnn-relu", "Elman RNN, ReLU"),
        new("irnn", "ReLU RNN with identity recurrent weights (Le et al. 2015)"),
        new("lstm", "LSTM as PyTorch's nn.LSTM, no peepholes (Hochreiter and Schmidhuber 1997; Gers et al. 2000)"),
        new("gru", "GRU as PyTorch's nn.GRU (Cho et al. 2014)"),
        .. LstmVariant.Greff.Select(v => new Entry("lstm-" + v.Name.ToLowerInvariant(), $"Greff et al. 2017 variant {v.Name}")),
    ];

    /// <summary>Every known name, in a stable order.</summary>
    public static IReadOnlyList<string> Names { get; } = entries.Select(e => e.Name).ToArray();

    /// <summary>
    /// Whether the named cell has a forget gate with its own bias, which a forget-gate bias can be applied to: the LSTM
    /// and its Greff variants except NFG (no forget gate) and CIFG (f = 1 - i).
    /// </summary>
    public static bool AcceptsForgetBias(string name)
    {
        string n = Find(name).Name;
        return n == "lstm" || (n.StartsWith("lstm-", StringComparison.Ordinal) && Variant(n).GateLayout.Contains('f'));
    }

    private static LstmVariant Variant(string catalogueName) => LstmVariant.Greff.First(v => "lstm-" + v.Name.ToLowerInvariant() == catalogueName);

    /// <summary>One-line description of <paramref name="name"/>.</summary>
    public static string Describe(string name) => Find(name).Description;

    /// <summary>Whether <paramref name="name"/> is known (case-insensitive).</summary>
    public static bool Contains(string name) => entries.Any(e => e.Name.Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A layer of the named cell: <paramref name="layers"/> stacked (residual connections between them if asked),
    /// hidden size <paramref name="hidden"/>; <paramref name="forgetBias"/> applies to LSTM-family cells only.
    /// </summary>
    public static RecurrentLayer<T> Layer<T>(string name, int inputSize, int hidden, Rng rng, int layers = 1, bool residual = false, double? forgetBias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string n = Find(name).Name;
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), $"CellCatalog: the hidden size must be positive, got {hidden}.");
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), $"CellCatalog: the number of layers must be positive, got {layers}.");
        if (forgetBias is not null && !AcceptsForgetBias(n))
            throw new ArgumentException($"CellCatalog: a forget-gate bias applies to LSTM cells with their own forget gate only, not to '{n}'.");
        return new RecurrentLayer<T>((i, r) => Cell<T>(n, i, hidden, r, forgetBias), inputSize, rng, layers, bidirectional: false, residual: residual);
    }

    /// <summary>A single cell of the named kind.</summary>
    public static RecurrentCell<T> Cell<T>(string name, int inputSize, int hidden, Rng rng, double? forgetBias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string n = Find(name).Name;
        return n switch
        {
            "rnn" => new ElmanCell<T>(inputSize, hidden, rng),
            "rnn-relu" => new ElmanCell<T>(inputSize, hidden, rng, ElmanActivation.Relu),
            "irnn" => ElmanCell<T>.Irnn(inputSize, hidden, rng),
            "lstm" => new LstmCell<T>(inputSize, hidden, rng, forgetBias),
            "gru" => new GruCell<T>(inputSize, hidden, rng),
            _ => new LstmVariantCell<T>(Variant(n), inputSize, hidden, rng, forgetBias),
        };
    }

    private static Entry Find(string name) =>
        entries.FirstOrDefault(e => e.Name.Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown cell '{name}'. Valid cells: {string.Join(", ", Names)}.");
}
