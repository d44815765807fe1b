using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Models;

/// <summary>
/// The recurrent architectures the command line and the experiments know by name: a view of the library's
/// <see cref="CellRegistry"/> (the one list of cells, which researchers' cells can join) that builds whole layers.
/// Unknown names get an error listing the valid ones.
/// </summary>
public static class CellCatalog
{
    /// <summary>Every known name, in a stable order (built-in cells, then registered ones).</summary>
    public static IReadOnlyList<string> Names => CellRegistry.Names;

    /// <summary>
    /// Whether the named cell has a forget gate with its own bias, which a forget-gate bias can be applied to: the LSTM
    /// and its Greff variants except NFG (no forget gate) and CIFG (f = 1 - i).
    /// </summary>
    public static bool AcceptsForgetBias(string name) => CellRegistry.Find(name).AcceptsForgetBias;

    /// <summary>One-line description of <paramref name="name"/>.</summary>
    public static string Describe(string name) => CellRegistry.Find(name).Description;

    /// <summary>Whether <paramref name="name"/> is known (case-insensitive).</summary>
    public static bool Contains(string name) => CellRegistry.Contains(name);

    /// <summary>
    /// A layer of the named cell: <paramref name="layers"/> stacked (residual connections between them if asked),
    /// hidden size <paramref name="hidden"/>; <paramref name="forgetBias"/> applies to LSTM-family cells only.
    /// </summary>
    public static RecurrentLayer<T> Layer<T>(string name, int inputSize, int hidden, Rng rng, int layers = 1, bool residual = false, double? forgetBias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string n = CellRegistry.Find(name).Name;
        if (hidden <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), $"CellCatalog: the hidden size must be positive, got {hidden}.");
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), $"CellCatalog: the number of layers must be positive, got {layers}.");
        if (forgetBias is not null && !AcceptsForgetBias(n))
            throw new ArgumentException($"CellCatalog: a forget-gate bias applies to LSTM cells with their own forget gate only, not to '{n}'.");
        return new RecurrentLayer<T>((i, r) => Cell<T>(n, i, hidden, r, forgetBias), inputSize, rng, layers, bidirectional: false, residual: residual);
    }

    /// <summary>A single cell of the named kind.</summary>
    public static RecurrentCell<T> Cell<T>(string name, int inputSize, int hidden, Rng rng, double? forgetBias = null)
        where T : unmanaged, IFloatingPointIeee754<T> => CellRegistry.Create<T>(name, inputSize, hidden, rng, forgetBias);
}
