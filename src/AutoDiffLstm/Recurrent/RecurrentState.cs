using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The state a recurrent cell carries from one time step to the next: an ordered list of named tensors, each of shape
/// [B, size], e.g. (h) for Elman and GRU cells, (h, c) for LSTM cells. Immutable: a step returns a new state.
/// </summary>
public sealed class RecurrentState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] tensors;
    private readonly IReadOnlyList<string> names;

    /// <summary>A state with the given names and tensors (same count, same order).</summary>
    public RecurrentState(IReadOnlyList<string> names, params Tensor<T>[] tensors)
    {
        if (names.Count != tensors.Length)
            throw new ArgumentException($"RecurrentState: {tensors.Length} tensors were given for {names.Count} names ({string.Join(", ", names)}); they must match one to one.");
        this.names = names;
        this.tensors = (Tensor<T>[])tensors.Clone();
    }

    /// <summary>The state names in order, e.g. ["h", "c"].</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>The state tensors in the order of <see cref="Names"/>.</summary>
    public IReadOnlyList<Tensor<T>> Tensors => tensors;

    /// <summary>Number of state tensors.</summary>
    public int Count => tensors.Length;

    /// <summary>The state tensor at <paramref name="index"/>.</summary>
    public Tensor<T> this[int index] => tensors[index];

    /// <summary>The state tensor called <paramref name="name"/> (e.g. "h" or "c").</summary>
    public Tensor<T> this[string name]
    {
        get
        {
            for (int i = 0; i < tensors.Length; i++)
                if (names[i] == name) return tensors[i];
            throw new KeyNotFoundException($"RecurrentState: there is no state called '{name}'; this state has {string.Join(", ", names)}.");
        }
    }

    /// <summary>The batch size (first dimension of every state tensor).</summary>
    public int BatchSize => tensors[0].Shape[0];

    /// <summary>The same values cut off from the tape: gradients stop here (truncated backpropagation through time).</summary>
    public RecurrentState<T> Detach() => Map(t => t.Detach());

    /// <summary>Asks backward to keep dL/d(state tensor) for every tensor of this state (diagnostics). Returns this state.</summary>
    public RecurrentState<T> RetainGrad()
    {
        foreach (var t in tensors) t.RetainGrad();
        return this;
    }

    /// <summary>A state with every tensor transformed by <paramref name="map"/> (names kept).</summary>
    public RecurrentState<T> Map(Func<Tensor<T>, Tensor<T>> map) => new(names, tensors.Select(map).ToArray());

    /// <summary>
    /// Per batch row: <paramref name="live"/>'s values where <paramref name="mask"/> ([B, 1]) is non-zero, else
    /// <paramref name="kept"/>'s (padded steps keep the previous state).
    /// </summary>
    internal static RecurrentState<T> Where(Tensor<T> mask, RecurrentState<T> live, RecurrentState<T> kept)
    {
        var mixed = new Tensor<T>[live.Count];
        for (int i = 0; i < mixed.Length; i++) mixed[i] = Tensor.Where(mask, live[i], kept[i]);
        return new RecurrentState<T>(live.names, mixed);
    }

    /// <summary>Names and shapes, e.g. <c>(h [2, 4], c [2, 4])</c>.</summary>
    public override string ToString() => "(" + string.Join(", ", names.Select((n, i) => $"{n} {tensors[i].ShapeText}")) + ")";
}
