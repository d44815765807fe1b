namespace AutoDiffLstm;

/// <summary>
/// The one way a backward rule writes an input's gradient. A rule gets it from <see cref="Tensor{T}.GradSink"/> (once per
/// input and rule) and then uses exactly one of three modes:
/// <list type="bullet">
/// <item><b>Write or add</b> (<see cref="Array"/>, <see cref="Span"/>, <see cref="Overwrite"/>): when
/// <see cref="Overwrite"/> is true the rule is the first to reach this input in the pass, the buffer is fresh with
/// arbitrary contents, and the rule must write every element; otherwise it adds its contribution to what earlier rules
/// left. Skipping the zero-fill and the read of zeros is a third of the memory traffic of a small elementwise rule, and
/// x + 0 == x, so the values are those of accumulating onto zeros. <see cref="Add"/> is this mode for a ready-made
/// contribution (copy or add).</item>
/// <item><b>Accumulate</b> (<see cref="Zeroed"/>, <see cref="ZeroedArray"/>): for kernels that can only add (scatters,
/// broadcast reductions, Gemm with accumulate): a fresh buffer is zero-filled first.</item>
/// <item><b>Take over</b> (<see cref="TakenOver"/>): a sink opened with a pass-through source (the rule's dL/dy is this
/// input's gradient unchanged: Reshape, a same-shape Add) adopts the source's engine-owned buffer instead of copying it
/// when nothing has reached this input yet; the gradient is then already complete and <see cref="Add"/> does nothing.</item>
/// </list>
/// Whatever the mode, the resulting values are those of adding every contribution onto zeros in tape order (x + 0 == x;
/// only a zero's sign can differ: a written -0 stays -0 where 0 + -0 gives +0).
/// </summary>
internal readonly struct GradSink<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    internal GradSink(T[] array, bool overwrite, bool takenOver)
    {
        Array = array;
        Overwrite = overwrite;
        TakenOver = takenOver;
    }

    /// <summary>The gradient array (exactly the tensor's size), for kernels that take arrays and offsets (Gemm).</summary>
    public T[] Array { get; }

    /// <summary>True when nothing has been written yet: the contents are arbitrary and must all be overwritten.</summary>
    public bool Overwrite { get; }

    /// <summary>True when the buffer is the pass-through source's gradient, taken over whole: nothing is left to add.</summary>
    public bool TakenOver { get; }

    /// <summary>The gradient as a span (write mode: see <see cref="Overwrite"/>).</summary>
    public Span<T> Span => Array;

    /// <summary>Adds <paramref name="contribution"/> (this tensor's size): copied into a fresh buffer, added onto a begun one, nothing when taken over.</summary>
    public void Add(ReadOnlySpan<T> contribution)
    {
        if (!TakenOver) Kernels.CopyOrAdd(contribution, Span, Overwrite);
    }

    /// <summary>Adds <paramref name="value"/> to every element (write mode for a broadcast scalar): written into a fresh buffer, added onto a begun one, nothing when taken over.</summary>
    public void AddToEvery(T value)
    {
        if (TakenOver) return;
        if (Overwrite) Span.Fill(value);
        else System.Numerics.Tensors.TensorPrimitives.Add(Span, value, Span);
    }

    /// <summary>Accumulate mode: the buffer, zero-filled if it was fresh, for a kernel that only adds into it.</summary>
    public Span<T> Zeroed() => ZeroedArray();

    /// <summary>Accumulate mode for kernels that take arrays (Gemm with accumulate): <see cref="Zeroed"/> as an array.</summary>
    public T[] ZeroedArray()
    {
        if (Overwrite) System.Array.Clear(Array);
        return Array;
    }
}
