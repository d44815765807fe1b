using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

/// <summary>
/// An elementwise primitive y = f(x) stated once: its forward kernel and the chain rule through it,
/// <c>Chain(g) = g * f'(x)</c>, written in <see cref="IValue{TSelf}"/> arithmetic. The one driver,
/// <see cref="UnaryRule{T, F}"/>, turns that into every derivative the engine has: the SIMD backward kernel
/// (g = dL/dy over vectors), forward mode (g = the tangent of x, over recorded tensors) and the differentiable backward
/// pass (g = dL/dy as a recorded tensor). For a scalar function the JVP and the VJP are the same multiplication.
/// </summary>
internal interface IUnaryFormula
{
    /// <summary>The primitive's name on the tape and in errors.</summary>
    static abstract string Name { get; }

    /// <summary>Whether <see cref="Chain"/> reads x (otherwise the kernel does not load it).</summary>
    static abstract bool ReadsInput { get; }

    /// <summary>Whether <see cref="Chain"/> reads y.</summary>
    static abstract bool ReadsOutput { get; }

    /// <summary>y = f(x) for a whole tensor; <paramref name="p"/> and <paramref name="q"/> are the primitive's constants (an exponent, clamp bounds).</summary>
    static abstract void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>g * dy/dx at (x, y).</summary>
    static abstract V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V>;

    /// <summary>
    /// Whether the <c>VectorForward</c> methods (512 and 256 bits) give <see cref="Forward"/>'s bits for T on this machine. The generated kernels
    /// of a compiled sequence (<see cref="GroupKernel{T}"/>) fuse only primitives that have one; a group with any other
    /// runs instruction by instruction.
    /// </summary>
    static virtual bool HasVectorForward<T>() where T : unmanaged, IFloatingPointIeee754<T> => false;

    /// <summary>y = f(x) over one vector, the same bits as <see cref="Forward"/> gives for each element.</summary>
    static virtual Vector512<T> VectorForward<T>(Vector512<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new NotSupportedException("this primitive has no vector form");

    /// <summary>The same over a 256-bit vector (AVX2 hardware), the same bits.</summary>
    static virtual Vector256<T> VectorForward<T>(Vector256<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new NotSupportedException("this primitive has no vector form");
}

/// <summary>A unary primitive's formulas over one <see cref="Vector512{T}"/> or <see cref="Vector256{T}"/>, as the static methods a generated group kernel calls.</summary>
internal static class UnaryVectorForm<T, F> where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IUnaryFormula
{
    public static VectorForm? Methods { get; } = F.HasVectorForward<T>() ? new(typeof(UnaryVectorForm<T, F>)) : null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Forward(Vector512<T> x, Vector512<T> unused, double p, double q) => F.VectorForward(x, p, q);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ChainA(Vector512<T> g, Vector512<T> x, Vector512<T> unused, Vector512<T> y, double p, double q) =>
        F.Chain(new Vector512Value<T>(g), new Vector512Value<T>(x), new Vector512Value<T>(y), p, q).V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Forward(Vector256<T> x, Vector256<T> unused, double p, double q) => F.VectorForward(x, p, q);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ChainA(Vector256<T> g, Vector256<T> x, Vector256<T> unused, Vector256<T> y, double p, double q) =>
        F.Chain(new Vector256Value<T>(g), new Vector256Value<T>(x), new Vector256Value<T>(y), p, q).V;
}

/// <summary>Records an elementwise primitive: forward by its formula, one tape entry with the driver rule.</summary>
internal static class Unary
{
    public static Tensor<T> Apply<T, F>(Tensor<T> x, double p = 0, double q = 0)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IUnaryFormula
    {
        var y = Tensor<T>.Uninitialized(x.Dims);
        F.Forward<T>(x.Data, y.Data, p, q);
        Tape.Record(UnaryRule<T, F>.Instance, y, x, d0: p, d1: q); // D0, D1: the formula's p, q (UnaryRule.P/Q)
        return y;
    }
}

/// <summary>The derivatives of every elementwise unary primitive, derived from its <see cref="IUnaryFormula.Chain"/>.</summary>
internal sealed class UnaryRule<T, F> : BackwardRule<T>, IElementwiseKernel<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IUnaryFormula
{
    /// <summary>The formula's first parameter p (slot D0).</summary>
    private static double P(in TapeEntry e) => e.D0;
    /// <summary>The formula's second parameter q (slot D1).</summary>
    private static double Q(in TapeEntry e) => e.D1;

    public static readonly UnaryRule<T, F> Instance = new();
    public override string Name => F.Name;

    // dx (+)= Chain(dy, x, y)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var sink = x.GradSink();
        ChainKernel(dy, F.ReadsInput ? x.AsSpan() : dy, F.ReadsOutput ? y.AsSpan() : dy, sink.Span, sink.Overwrite, P(e), Q(e));
    }

    public int Arity => 1;

    public TensorBase Replay(in TapeEntry e) => Unary.Apply<T, F>(e.InA<T>(), P(e), Q(e));

    public void Forward(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, double p, double q) => F.Forward(a, y, p, q);

    public bool BackwardReadsOperands => F.ReadsInput;

    public bool BackwardReadsOutput => F.ReadsOutput;

    public VectorForm? VectorForm => UnaryVectorForm<T, F>.Methods;

    public void Backward(ReadOnlySpan<T> g, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, Span<T> ga, Span<T> gb, double p, double q)
    {
        if (!ga.IsEmpty) ChainKernel(g, F.ReadsInput ? a : g, F.ReadsOutput ? y : g, ga, overwrite: false, p, q);
    }

    // dy_tangent = Chain(dx_tangent, x, y)
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents)
    {
        var tx = tangents.Of<T>(e.A);
        return tx is null ? null : F.Chain(new TensorValue<T>(tx), new TensorValue<T>(e.InA<T>()), new TensorValue<T>(y), P(e), Q(e)).V;
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var x = e.InA<T>();
        sink.Add(Name, x, F.Chain(new TensorValue<T>(dy), new TensorValue<T>(x), new TensorValue<T>(y), P(e), Q(e)).V);
    }

    /// <summary>acc (+)= Chain(g, x, y) elementwise; x or y is a stand-in span when the formula does not read it.</summary>
    private static void ChainKernel(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> acc, bool overwrite, double p, double q)
    {
        int n = g.Length, i = 0;
        ref T rg = ref MemoryMarshal.GetReference(g), rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y);
        ref T ra = ref MemoryMarshal.GetReference(acc);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var xv = F.ReadsInput ? Vector.LoadUnsafe(ref rx, (nuint)i) : default;
                var yv = F.ReadsOutput ? Vector.LoadUnsafe(ref ry, (nuint)i) : default;
                var r = F.Chain(new VectorValue<T>(Vector.LoadUnsafe(ref rg, (nuint)i)), new VectorValue<T>(xv), new VectorValue<T>(yv), p, q).V;
                (overwrite ? r : Vector.LoadUnsafe(ref ra, (nuint)i) + r).StoreUnsafe(ref ra, (nuint)i);
            }
        for (; i < n; i++)
        {
            var xs = F.ReadsInput ? Unsafe.Add(ref rx, i) : default;
            var ys = F.ReadsOutput ? Unsafe.Add(ref ry, i) : default;
            T r = F.Chain(new ScalarValue<T>(Unsafe.Add(ref rg, i)), new ScalarValue<T>(xs), new ScalarValue<T>(ys), p, q).V;
            Unsafe.Add(ref ra, i) = overwrite ? r : Unsafe.Add(ref ra, i) + r;
        }
    }
}
