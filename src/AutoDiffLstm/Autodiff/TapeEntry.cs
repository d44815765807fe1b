namespace AutoDiffLstm;

/// <summary>
/// One recorded operation: its backward rule, its output, up to three tensor inputs and a few scalar arguments.
/// A struct in a flat list, so recording allocates nothing beyond the output tensor.
/// </summary>
internal struct TapeEntry
{
    public IBackwardRule Rule;
    public TensorBase Output;
    public TensorBase? A, B, C;
    /// <summary>Operation-specific data that is not a tensor (integer targets, a list of inputs).</summary>
    public object? Aux;
    /// <summary>What a rule needs besides its inputs that the tape must not treat as one (a fused group's outputs).</summary>
    public object? Extra;
    public int I0, I1, I2;
    public double D0, D1;

    public readonly Tensor<T> Out<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => (Tensor<T>)Output;
    public readonly Tensor<T> InA<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => (Tensor<T>)A!;
    public readonly Tensor<T> InB<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => (Tensor<T>)B!;
    public readonly Tensor<T> InC<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => (Tensor<T>)C!;

    /// <summary>The tensor inputs: A, B, C, then those of a list in Aux (a checkpoint segment's parents, Concat's parts).</summary>
    public readonly InputList Inputs() => new(A, B, C, Aux as TensorBase[]);
}

/// <summary>
/// The inputs of one tape entry for <c>foreach</c>, without allocating: a checkpoint segment scans every entry of its
/// private tape for the tensors it captured, and an iterator object per entry was most of what a checkpointed training
/// iteration allocated.
/// </summary>
internal struct InputList(TensorBase? a, TensorBase? b, TensorBase? c, TensorBase[]? many)
{
    private int next = -1;

    public readonly InputList GetEnumerator() => this;

    public TensorBase Current { get; private set; } = null!;

    public bool MoveNext()
    {
        int end = 3 + (many?.Length ?? 0);
        while (++next < end)
        {
            var t = next switch { 0 => a, 1 => b, 2 => c, _ => many![next - 3] };
            if (t is not null)
            {
                Current = t;
                return true;
            }
        }
        return false;
    }

    /// <summary>The inputs as a new array.</summary>
    public readonly TensorBase[] ToArray()
    {
        var list = new List<TensorBase>(3);
        foreach (var t in this) list.Add(t);
        return [.. list];
    }
}

/// <summary>
/// The derivative rules of one primitive. <see cref="Backward"/> is the fast reverse rule over gradient arrays that
/// training runs; <see cref="Jvp"/> (forward mode) and <see cref="Vjp"/> (reverse mode as recorded tensor operations,
/// which is what makes a gradient differentiable again) are written with the engine's own public operations.
/// </summary>
internal interface IBackwardRule
{
    /// <summary>Short operation name used in error and anomaly messages (e.g. "tanh").</summary>
    string Name { get; }

    /// <summary>Accumulates dL/d(input) into every input that requires it, given dL/dy in the entry's output.</summary>
    // Every input's gradient is written through Tensor<T>.GradSink(): write-or-add, accumulate (zeroed) or take over a
    // pass-through buffer, as documented on GradSink<T>. Slots I0..D1/Aux are read through each rule's named accessors.
    void Backward(in TapeEntry e);

    /// <summary>The output's tangent given the inputs' tangents (a null tangent is zero); null when it is zero.</summary>
    TensorBase? Jvp(in TapeEntry e, Tangents tangents);

    /// <summary>Adds each input's cotangent, computed from <paramref name="dy"/> with tensor operations, to <paramref name="sink"/>.</summary>
    void Vjp(in TapeEntry e, TensorBase dy, Cotangents sink);
}

/// <summary>Typed base for backward rules: unpacks the output and its gradient.</summary>
internal abstract class BackwardRule<T> : IBackwardRule where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    public abstract string Name { get; }

    public void Backward(in TapeEntry e)
    {
        var y = e.Out<T>();
        Backward(e, y, y.GradData!);
    }

    public TensorBase? Jvp(in TapeEntry e, Tangents tangents) => Jvp(e, e.Out<T>(), tangents);

    public void Vjp(in TapeEntry e, TensorBase dy, Cotangents sink) => Vjp(e, e.Out<T>(), (Tensor<T>)dy, sink);

    /// <summary>Accumulates into the inputs' gradients given <paramref name="dy"/> = dL/dy.</summary>
    protected abstract void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy);

    /// <summary>Forward mode: dy from the inputs' tangents (<see cref="Tangents.Of{T}"/>; null means zero).</summary>
    protected virtual Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents) =>
        throw new NotSupportedException($"{Name}: this operation has no forward-mode (JVP) rule, so Jvp, Hvp and Jacobian cannot pass through it.");

    /// <summary>Reverse mode as tensor operations: calls <see cref="Cotangents.Add"/> for each input that requires a gradient.</summary>
    protected virtual void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) =>
        throw new NotSupportedException($"{Name}: this operation has no differentiable backward rule, so Autograd.Grad(createGraph: true) and Hvp cannot pass through it.");
}
