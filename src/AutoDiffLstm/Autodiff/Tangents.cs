namespace AutoDiffLstm;

/// <summary>
/// The tangents of forward mode, keyed by tensor: the ones seeded for the inputs and those the rules have pushed to
/// recorded outputs. A tensor without an entry has a zero tangent.
/// </summary>
internal sealed class Tangents
{
    private readonly Dictionary<TensorBase, TensorBase> map = new(ReferenceEqualityComparer.Instance);

    /// <summary>The tangent of <paramref name="t"/>, or null when it is zero (or <paramref name="t"/> is null).</summary>
    public Tensor<T>? Of<T>(TensorBase? t) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        t is not null && map.TryGetValue(t, out var v) ? (Tensor<T>)v : null;

    public void Set(TensorBase t, TensorBase tangent, string op)
    {
        if (!ShapeMath.Equal(t.Dims, tangent.Dims))
            throw new InvalidOperationException($"{op}: the forward-mode rule produced a tangent of shape {tangent.ShapeText} for an output of shape {t.ShapeText}.");
        map[t] = tangent;
    }

    /// <summary>Whether any input of the entry carries a tangent (otherwise its output's tangent is zero).</summary>
    public bool AnyInput(in TapeEntry e)
    {
        foreach (var t in e.Inputs())
            if (map.ContainsKey(t)) return true;
        return false;
    }
}

/// <summary>
/// The cotangents of a reverse pass run as tensor operations (<see cref="Autograd.Grad{T}(Tensor{T}, IReadOnlyList{Tensor{T}}, Tensor{T}?, bool, bool?)"/>):
/// a rule adds each input's contribution here; contributions to one tensor are summed with the engine's Add, so with
/// recording on the sum is differentiable too.
/// </summary>
internal sealed class Cotangents
{
    private readonly Dictionary<TensorBase, TensorBase> map = new(ReferenceEqualityComparer.Instance);

    public TensorBase? Of(TensorBase t) => map.TryGetValue(t, out var v) ? v : null;

    /// <summary>Adds <paramref name="g"/> to the cotangent of <paramref name="input"/>; its shape must be the input's.</summary>
    public void Add<T>(string op, Tensor<T> input, Tensor<T> g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (!input.RequiresGrad) return;
        if (!ShapeMath.Equal(input.Dims, g.Dims))
            throw new InvalidOperationException($"{op}: the backward rule produced a gradient of shape {g.ShapeText} for an input of shape {input.ShapeText}; they must be equal.");
        map[input] = map.TryGetValue(input, out var old) ? (Tensor<T>)old + g : g;
    }

    /// <summary>Sets the first cotangent (the seed of a pass).</summary>
    public void AddAny(TensorBase t, TensorBase g) => map[t] = g;

    /// <summary>Forgets the cotangent of an intermediate once its rule has consumed it (every reader came later on the tape).</summary>
    public void Drop(TensorBase t) => map.Remove(t);
}
