using System.Collections;
using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The named parameters of one cell, in a fixed order, with PyTorch's names (weight_ih, weight_hh, bias_ih, bias_hh,
/// and extra names for what PyTorch lacks). Names are unique; lookup by name throws with the list of known names.
/// </summary>
public sealed class CellParameters<T> : IReadOnlyList<KeyValuePair<string, Tensor<T>>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly KeyValuePair<string, Tensor<T>>[] items;
    private readonly Dictionary<string, Tensor<T>> byName;

    /// <summary>Parameters in the given order; names must be unique and non-empty.</summary>
    public CellParameters(IEnumerable<KeyValuePair<string, Tensor<T>>> named)
    {
        items = named.ToArray();
        byName = new Dictionary<string, Tensor<T>>(items.Length);
        foreach (var (name, tensor) in items)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("CellParameters: a parameter name is empty.");
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (!byName.TryAdd(name, tensor)) throw new ArgumentException($"CellParameters: the name '{name}' is used twice.");
        }
    }

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    public Tensor<T> this[string name] => byName.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"CellParameters: there is no parameter '{name}'; the cell has {string.Join(", ", Names)}.");

    /// <summary>The (name, tensor) pair at <paramref name="index"/>.</summary>
    public KeyValuePair<string, Tensor<T>> this[int index] => items[index];

    /// <summary>Whether a parameter called <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The names in order.</summary>
    public IReadOnlyList<string> Names => items.Select(p => p.Key).ToArray();

    /// <summary>Number of parameter tensors.</summary>
    public int Count => items.Length;

    /// <summary>Total number of scalar parameters.</summary>
    public int ElementCount => items.Sum(p => p.Value.Size);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor<T>>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, Tensor<T>>>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
