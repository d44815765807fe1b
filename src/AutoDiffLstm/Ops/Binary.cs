using System.Numerics;
using System.Runtime.CompilerServices;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

/// <summary>
/// An elementwise binary primitive y = f(a, b) stated once: its value and the chain rule through each operand
/// (<c>ChainA(g) = g * df/da</c>, <c>ChainB(g) = g * df/db</c>) in <see cref="IValue{TSelf}"/> arithmetic. From it the
/// engine derives the fused kernels of a compiled step (<see cref="IElementwiseKernel{T}"/>), the forward-mode rule
/// and the differentiable backward rule, as <see cref="IUnaryFormula"/> does for one operand.
/// </summary>
internal interface IBinaryFormula
{
    /// <summary>The primitive's name on the tape and in errors.</summary>
    static abstract string Name { get; }

    /// <summary>f(a, b).</summary>
    static abstract V Apply<V>(V a, V b) where V : struct, IValue<V>;

    /// <summary>Whether the chain rules read a or b (otherwise a compiled sequence need not keep the operands for backward).</summary>
    static abstract bool ReadsOperands { get; }

    /// <summary>Whether the chain rules read y.</summary>
    static abstract bool ReadsOutput { get; }

    /// <summary>g * df/da at (a, b, y).</summary>
    static abstract V ChainA<V>(V g, V a, V b, V y) where V : struct, IValue<V>;

    /// <summary>g * df/db at (a, b, y).</summary>
    static abstract V ChainB<V>(V g, V a, V b, V y) where V : struct, IValue<V>;
}

/// <summary>
/// The contract between a primitive and the fused kernels of a compiled step: forward and backward over equal-length
/// spans (broadcasting has been made explicit by the compiler). Backward ADDS into the gradient spans; an empty span
/// means that operand needs no gradient.
/// </summary>
internal interface IElementwiseKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>1 or 2.</summary>
    int Arity { get; }

    /// <summary>y = f(a[, b]) with the entry's constants p, q.</summary>
    void Forward(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, double p, double q);

    /// <summary>Whether <see cref="Backward"/> reads the operands' values (otherwise they need not be kept for it).</summary>
    bool BackwardReadsOperands { get; }

    /// <summary>Whether <see cref="Backward"/> reads the output's value.</summary>
    bool BackwardReadsOutput { get; }

    /// <summary>The primitive over one vector for the generated group kernels (<see cref="GroupKernel{T}"/>); null when its forward has no vector form with the same bits.</summary>
    VectorForm? VectorForm { get; }

    /// <summary>ga += g * df/da, gb += g * df/db.</summary>
    void Backward(ReadOnlySpan<T> g, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, Span<T> ga, Span<T> gb, double p, double q);
}

/// <summary>
/// An elementwise primitive over one vector: the static methods of <paramref name="Forms"/>, <c>Forward(a, b, p, q)</c>,
/// <c>ChainA(g, a, b, y, p, q)</c> and (binary only) <c>ChainB</c>, each over <see cref="Vector512{T}"/> and over
/// <see cref="Vector256{T}"/>, which a generated group kernel of that width calls and the JIT inlines.
/// </summary>
internal sealed record VectorForm(Type Forms)
{
    public MethodInfo Forward(Type vector) => Forms.GetMethod(nameof(Forward), [vector, vector, typeof(double), typeof(double)])!;

    public MethodInfo ChainA(Type vector) => Chain(nameof(ChainA), vector)!;

    /// <summary>Null for a unary primitive.</summary>
    public MethodInfo? ChainB(Type vector) => Chain(nameof(ChainB), vector);

    private MethodInfo? Chain(string name, Type v) => Forms.GetMethod(name, [v, v, v, v, typeof(double), typeof(double)]);
}

/// <summary>
/// A binary primitive's formulas over one <see cref="Vector512{T}"/> or <see cref="Vector256{T}"/>: lane by lane, the
/// bits of <see cref="BinaryKernels{T, F}"/>.
/// </summary>
internal static class BinaryVectorForm<T, F> where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IBinaryFormula
{
    public static VectorForm Methods { get; } = new(typeof(BinaryVectorForm<T, F>));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Forward(Vector256<T> a, Vector256<T> b, double p, double q) => F.Apply(new Vector256Value<T>(a), new Vector256Value<T>(b)).V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ChainA(Vector256<T> g, Vector256<T> a, Vector256<T> b, Vector256<T> y, double p, double q) =>
        F.ChainA(new Vector256Value<T>(g), new Vector256Value<T>(a), new Vector256Value<T>(b), new Vector256Value<T>(y)).V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ChainB(Vector256<T> g, Vector256<T> a, Vector256<T> b, Vector256<T> y, double p, double q) =>
        F.ChainB(new Vector256Value<T>(g), new Vector256Value<T>(a), new Vector256Value<T>(b), new Vector256Value<T>(y)).V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Forward(Vector512<T> a, Vector512<T> b, double p, double q) => F.Apply(new Vector512Value<T>(a), new Vector512Value<T>(b)).V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ChainA(Vector512<T> g, Vector512<T> a, Vector512<T> b, Vector512<T> y, double p, double q) =>
        F.ChainA(new Vector512Value<T>(g), new Vector512Value<T>(a), new Vector512Value<T>(b), new Vector512Value<T>(y)).V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ChainB(Vector512<T> g, Vector512<T> a, Vector512<T> b, Vector512<T> y, double p, double q) =>
        F.ChainB(new Vector512Value<T>(g), new Vector512Value<T>(a), new Vector512Value<T>(b), new Vector512Value<T>(y)).V;
}

/// <summary>The loops every binary formula runs in: SIMD vectors, then a scalar tail.</summary>
internal static class BinaryKernels<T, F> where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IBinaryFormula
{
    public static void Forward(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        int n = y.Length, i = 0;
        ref T ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), ry = ref MemoryMarshal.GetReference(y);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                F.Apply(new VectorValue<T>(Vector.LoadUnsafe(ref ra, (nuint)i)), new VectorValue<T>(Vector.LoadUnsafe(ref rb, (nuint)i))).V.StoreUnsafe(ref ry, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ry, i) = F.Apply(new ScalarValue<T>(Unsafe.Add(ref ra, i)), new ScalarValue<T>(Unsafe.Add(ref rb, i))).V;
    }

    public static void Backward(ReadOnlySpan<T> g, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, Span<T> ga, Span<T> gb)
    {
        if (!ga.IsEmpty) Accumulate(g, a, b, y, ga, towardA: true);
        if (!gb.IsEmpty) Accumulate(g, a, b, y, gb, towardA: false);
    }

    private static void Accumulate(ReadOnlySpan<T> g, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, Span<T> acc, bool towardA)
    {
        int n = g.Length, i = 0;
        ref T rg = ref MemoryMarshal.GetReference(g), ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b);
        ref T ry = ref MemoryMarshal.GetReference(y), rc = ref MemoryMarshal.GetReference(acc);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                // Only what the formula reads is loaded (constants to the JIT): Add's backward streams g alone.
                var (gv, av, bv, yv) = (new VectorValue<T>(Vector.LoadUnsafe(ref rg, (nuint)i)),
                    new VectorValue<T>(F.ReadsOperands ? Vector.LoadUnsafe(ref ra, (nuint)i) : default),
                    new VectorValue<T>(F.ReadsOperands ? Vector.LoadUnsafe(ref rb, (nuint)i) : default),
                    new VectorValue<T>(F.ReadsOutput ? Vector.LoadUnsafe(ref ry, (nuint)i) : default));
                var r = towardA ? F.ChainA(gv, av, bv, yv) : F.ChainB(gv, av, bv, yv);
                (Vector.LoadUnsafe(ref rc, (nuint)i) + r.V).StoreUnsafe(ref rc, (nuint)i);
            }
        for (; i < n; i++)
        {
            var (gv, av, bv, yv) = (new ScalarValue<T>(Unsafe.Add(ref rg, i)), new ScalarValue<T>(F.ReadsOperands ? Unsafe.Add(ref ra, i) : default),
                new ScalarValue<T>(F.ReadsOperands ? Unsafe.Add(ref rb, i) : default), new ScalarValue<T>(F.ReadsOutput ? Unsafe.Add(ref ry, i) : default));
            Unsafe.Add(ref rc, i) += (towardA ? F.ChainA(gv, av, bv, yv) : F.ChainB(gv, av, bv, yv)).V;
        }
    }

    /// <summary>Forward mode from the formula: dy = ChainA(da) + ChainB(db), broadcast to y (a null tangent is zero).</summary>
    public static Tensor<T> Jvp(Tensor<T> a, Tensor<T> b, Tensor<T> y, Tensor<T>? ta, Tensor<T>? tb)
    {
        var (av, bv, yv) = (new TensorValue<T>(a), new TensorValue<T>(b), new TensorValue<T>(y));
        var fromA = ta is null ? (Tensor<T>?)null : F.ChainA(new TensorValue<T>(ta), av, bv, yv).V;
        var fromB = tb is null ? (Tensor<T>?)null : F.ChainB(new TensorValue<T>(tb), av, bv, yv).V;
        var sum = fromA is null ? fromB! : fromB is null ? fromA : fromA + fromB;
        return sum.ExpandTo(y.Dims);
    }

    /// <summary>The differentiable backward rule from the formula: each operand's ChainX(dy), summed over its broadcast dimensions.</summary>
    public static void Vjp(Tensor<T> a, Tensor<T> b, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (av, bv, yv, g) = (new TensorValue<T>(a), new TensorValue<T>(b), new TensorValue<T>(y), new TensorValue<T>(dy));
        if (a.RequiresGrad) sink.Add(F.Name, a, F.ChainA(g, av, bv, yv).V.ExpandTo(y.Dims).SumTo(a.Dims));
        if (b.RequiresGrad) sink.Add(F.Name, b, F.ChainB(g, av, bv, yv).V.ExpandTo(y.Dims).SumTo(b.Dims));
    }
}

/// <summary>
/// The driver of every elementwise binary primitive: forward, backward kernel, forward mode, differentiable backward and
/// the fused kernels all come from the primitive's <see cref="IBinaryFormula"/>; a new primitive needs only its formula
/// and <see cref="Apply"/>. Add, Subtract, Multiply and Divide keep their own
/// <see cref="Backward(in TapeEntry, Tensor{T}, ReadOnlySpan{T})"/>: their values equal this default's (same per-element
/// expression, same reduction order), but this default opens every input's sink in accumulate mode
/// (<see cref="GradSink{T}.Zeroed"/>), so it (1) cannot take over dL/dy's buffer where a chain is the identity (Add's
/// same-shape operands: <see cref="GradSink{T}.TakenOver"/>; a formula is a generic function, so nothing here can tell
/// that ChainA(g) is g), and (2) zero-fills and re-reads a fresh buffer that Multiply's same-shape kernel writes
/// directly (write mode), a third of that rule's memory traffic. Serving them needs a formula-level pass-through flag
/// and a write-mode variant of <see cref="BinaryKernels{T, F}.Backward"/>.
/// </summary>
internal abstract class BinaryRule<T, F> : BackwardRule<T>, IElementwiseKernel<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IBinaryFormula
{
    /// <summary>y = f(a, b) with NumPy broadcasting, recorded with <paramref name="rule"/>.</summary>
    internal static Tensor<T> Record(BinaryRule<T, F> rule, Tensor<T> a, Tensor<T> b)
    {
        var dims = ShapeMath.Broadcast(F.Name, a.Dims, b.Dims);
        var y = Tensor<T>.Uninitialized(dims);
        if (ShapeMath.Equal(a.Dims, dims) && ShapeMath.Equal(b.Dims, dims)) BinaryKernels<T, F>.Forward(a.Data, b.Data, y.Data);
        else
        {
            var (fa, fb) = (BufferPool<T>.Rent(y.Size), BufferPool<T>.Rent(y.Size));
            Kernels.Expand<T>(a.Data, a.Dims, fa, dims);
            Kernels.Expand<T>(b.Data, b.Dims, fb, dims);
            BinaryKernels<T, F>.Forward(fa, fb, y.Data);
            BufferPool<T>.Return(fa);
            BufferPool<T>.Return(fb);
        }
        Tape.Record(rule, y, a, b);
        return y;
    }

    // ga += ChainA(dy), gb += ChainB(dy), each summed over the dimensions it was broadcast along.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        bool plain = ShapeMath.Equal(a.Dims, y.Dims) && ShapeMath.Equal(b.Dims, y.Dims);
        if (plain)
        {
            BinaryKernels<T, F>.Backward(dy, a.Data, b.Data, y.Data, a.RequiresGrad ? a.GradSink().Zeroed() : default, b.RequiresGrad ? b.GradSink().Zeroed() : default);
            return;
        }
        var (fa, fb) = (BufferPool<T>.Rent(y.Size), BufferPool<T>.Rent(y.Size));
        Kernels.Expand<T>(a.Data, a.Dims, fa, y.Dims);
        Kernels.Expand<T>(b.Data, b.Dims, fb, y.Dims);
        var g = BufferPool<T>.RentZeroed(y.Size);
        foreach (var (target, towardA) in new[] { (a, true), (b, false) })
        {
            if (!target.RequiresGrad) continue;
            g.AsSpan().Clear();
            BinaryKernels<T, F>.Backward(dy, fa, fb, y.Data, towardA ? g : default, towardA ? default : g);
            Kernels.ReduceToShape<T>(g, y.Dims, target.GradSink().Zeroed(), target.Dims);
        }
        BufferPool<T>.Return(fa);
        BufferPool<T>.Return(fb);
        BufferPool<T>.Return(g);
    }

    public override string Name => F.Name;
    public int Arity => 2;

    /// <summary>The primitive's public operation (e.g. <c>a.Add(b)</c>), which a compiled program replays.</summary>
    protected abstract Tensor<T> Apply(Tensor<T> a, Tensor<T> b);

    public TensorBase Replay(in TapeEntry e) => Apply(e.InA<T>(), e.InB<T>());

    public void Forward(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, double p, double q) => BinaryKernels<T, F>.Forward(a, b, y);

    public bool BackwardReadsOperands => F.ReadsOperands;

    public bool BackwardReadsOutput => F.ReadsOutput;

    public VectorForm? VectorForm => BinaryVectorForm<T, F>.Methods;

    public void Backward(ReadOnlySpan<T> g, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, Span<T> ga, Span<T> gb, double p, double q) =>
        BinaryKernels<T, F>.Backward(g, a, b, y, ga, gb);

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t) => BinaryKernels<T, F>.Jvp(e.InA<T>(), e.InB<T>(), y, t.Of<T>(e.A), t.Of<T>(e.B));

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) => BinaryKernels<T, F>.Vjp(e.InA<T>(), e.InB<T>(), y, dy, sink);
}
