using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// The forward kernels of Sigmoid and Tanh, the activations every recurrent cell evaluates at every step. Float on
/// AVX-512, and on AVX2 with FMA, uses the single-precision exponential below (the same bits at either width);
/// everything else (double, older hardware) uses System.Numerics.Tensors.
/// </summary>
/// <remarks>
/// Why our own: TensorPrimitives computes a float exponential in double precision and rounds it back, which costs
/// about twice a single-precision evaluation (measured on 256 floats, W3's gate size: Sigmoid 104 against 62 ns, Tanh
/// 140 against 96 ns). The single-precision version is as accurate, well inside the float gradient tolerance of the
/// property tests (16 eps): over a dense sweep of [-120, 120] and every power of two, Sigmoid within 2 ulp and Tanh within
/// 1 ulp of the correctly rounded value wherever the result is a normal float (TensorPrimitives' own float kernels, as
/// used without AVX2 and FMA: 3 and 2 ulp). At 256 bits (AVX2) the kernels give the same bits as at 512, so a float
/// computation's result does not depend on which of the two a machine has.
/// Both saturate exactly (0 and 1, -1 and 1), keep NaN, and Tanh is exactly odd (tanh(-0) = -0). The tail of an array
/// goes through the same vector code (copied into a full vector), so an element's value never depends on where it sits.
/// </remarks>
internal static class Activations
{
    /// <summary>Whether Sigmoid and Tanh of T run the kernels below (float on AVX-512 or AVX2 with FMA), rather than TensorPrimitives'.</summary>
    public static bool HasOwnKernel<T>() => typeof(T) == typeof(float) && (Vector512.IsHardwareAccelerated || HasNarrowKernel);

    // AVX2 with hardware FMA: the 256-bit kernels below at full speed (without FMA .NET would emulate each fused step).
    private static bool HasNarrowKernel => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>y = 1 / (1 + e^-x).</summary>
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (HasOwnKernel<T>())
            SigmoidSingle(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else TP.Sigmoid(x, y);
    }

    /// <summary>y = tanh(x).</summary>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (HasOwnKernel<T>())
            TanhSingle(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else TP.Tanh(x, y);
    }

    /// <summary>
    /// The single-precision Sigmoid kernel itself, 512 bits wide where AVX-512 is, else 256 (tests call it on any
    /// hardware: without AVX2 .NET emulates the same IEEE operations, lane by lane).
    /// </summary>
    internal static void SigmoidSingle(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Vector512.IsHardwareAccelerated) Map<SigmoidOp>(x, y);
        else MapNarrow<SigmoidOp>(x, y);
    }

    /// <summary>The single-precision Tanh kernel itself (as <see cref="SigmoidSingle"/>).</summary>
    internal static void TanhSingle(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Vector512.IsHardwareAccelerated) Map<TanhOp>(x, y);
        else MapNarrow<TanhOp>(x, y);
    }

    /// <summary>The 256-bit kernels on any hardware: tests compare their bits with the 512-bit ones where both run.</summary>
    internal static void SigmoidNarrow(ReadOnlySpan<float> x, Span<float> y) => MapNarrow<SigmoidOp>(x, y);

    /// <inheritdoc cref="SigmoidNarrow"/>
    internal static void TanhNarrow(ReadOnlySpan<float> x, Span<float> y) => MapNarrow<TanhOp>(x, y);

    /// <summary>Sigmoid of one vector: the bits <see cref="Sigmoid{T}"/> gives each element (a generated group kernel calls it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SigmoidVector(Vector512<float> x) => SigmoidOp.Invoke(x);

    /// <summary>Tanh of one vector: the bits <see cref="Tanh{T}"/> gives each element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> TanhVector(Vector512<float> x) => TanhOp.Invoke(x);

    /// <summary>Sigmoid of a 256-bit vector: the same bits, lane by lane, as the 512-bit one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SigmoidVector(Vector256<float> x) => SigmoidOp.Invoke(x);

    /// <summary>Tanh of a 256-bit vector: the same bits, lane by lane, as the 512-bit one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> TanhVector(Vector256<float> x) => TanhOp.Invoke(x);

    private interface IVectorOp
    {
        static abstract Vector512<float> Invoke(Vector512<float> x);
        static abstract Vector256<float> Invoke(Vector256<float> x);
    }

    private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IVectorOp
    {
        int n = x.Length, i = 0, w = Vector512<float>.Count;
        ref float rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y);
        for (; i <= n - w; i += w) TOp.Invoke(Vector512.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        if (i == n) return;
        Span<float> tail = stackalloc float[Vector512<float>.Count];
        x[i..].CopyTo(tail);
        TOp.Invoke(Vector512.Create<float>(tail)).CopyTo(tail);
        tail[..(n - i)].CopyTo(y[i..]);
    }

    private static void MapNarrow<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IVectorOp
    {
        int n = x.Length, i = 0, w = Vector256<float>.Count;
        ref float rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y);
        for (; i <= n - w; i += w) TOp.Invoke(Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        if (i == n) return;
        Span<float> tail = stackalloc float[Vector256<float>.Count];
        x[i..].CopyTo(tail);
        TOp.Invoke(Vector256.Create<float>(tail)).CopyTo(tail);
        tail[..(n - i)].CopyTo(y[i..]);
    }

    // Each formula twice, at 512 and at 256 bits: the same operations in the same order, so the same bits per lane (the
    // 512-bit code is kept exactly as it was measured; .NET has no public interface over both vector types).
    private struct SigmoidOp : IVectorOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            // e^-x overflows to infinity below x = -88.7 and the quotient is then exactly 0; it vanishes above 104.
            var s = Vector512<float>.One / (Vector512<float>.One + Exp(-x));
            return Vector512.ConditionalSelect(Vector512.Equals(x, x), s, x); // NaN stays NaN
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            var s = Vector256<float>.One / (Vector256<float>.One + Exp(-x));
            return Vector256.ConditionalSelect(Vector256.Equals(x, x), s, x);
        }
    }

    private struct TanhOp : IVectorOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            var a = Vector512.Abs(x);
            // Near 0, 1 - 2 / (e^2a + 1) would lose digits to cancellation: below a = 0.55 the odd Taylor series to a^17
            // (its first omitted term is below 6e-9 relative at a = 0.55).
            var a2 = a * a;
            var q = Vector512.Create(6404582f / 10854718875);
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(-929569f / 638512875));
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(21844f / 6081075));
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(-1382f / 155925));
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(62f / 2835));
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(-17f / 315));
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(2f / 15));
            q = Vector512.FusedMultiplyAdd(q, a2, Vector512.Create(-1f / 3));
            var small = Vector512.FusedMultiplyAdd(q * a2, a, a);
            // Elsewhere tanh a = 1 - 2 / (e^2a + 1), where 2 / (e^2a + 1) < 1 / 2 cancels at most one bit; exactly 1 once
            // e^2a overflows (a > 44).
            var large = Vector512<float>.One - Vector512.Create(2f) / (Exp(a + a) + Vector512<float>.One);
            var t = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(0.55f)), small, large);
            t = Vector512.ConditionalSelect(Vector512.Create(-0f), x, t); // the sign of x: exactly odd, tanh(-0) = -0
            return Vector512.ConditionalSelect(Vector512.Equals(x, x), t, x);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            var a = Vector256.Abs(x);
            var a2 = a * a;
            var q = Vector256.Create(6404582f / 10854718875);
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(-929569f / 638512875));
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(21844f / 6081075));
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(-1382f / 155925));
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(62f / 2835));
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(-17f / 315));
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(2f / 15));
            q = Vector256.FusedMultiplyAdd(q, a2, Vector256.Create(-1f / 3));
            var small = Vector256.FusedMultiplyAdd(q * a2, a, a);
            var large = Vector256<float>.One - Vector256.Create(2f) / (Exp(a + a) + Vector256<float>.One);
            var t = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(0.55f)), small, large);
            t = Vector256.ConditionalSelect(Vector256.Create(-0f), x, t);
            return Vector256.ConditionalSelect(Vector256.Equals(x, x), t, x);
        }
    }

    /// <summary>
    /// e^x in single precision: x = n ln2 + r with |r| &lt;= ln2 / 2 (Cody and Waite's two-part ln2, so n ln2 is exact),
    /// e^r by its Taylor series to r^7 (the first omitted term is below 6e-9 relative), times 2^n by one vscalefps: one
    /// rounding, only where the result is subnormal, the bits of multiplying by 2^(n/2) twice, and no exponent field to
    /// build for n from -150 to 128 (only called where AVX-512 is). Overflows to infinity above 88.7, reaches 0
    /// below -103.9; not NaN-safe (callers restore NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-104f)), Vector512.Create(89f));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1f / 5040);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }

    /// <summary>
    /// e^x at 256 bits, the bits of the 512-bit <see cref="Exp(Vector512{float})"/>: the same reduction and series, and
    /// 2^n applied as 2^(n - m) then 2^m with m = floor(n / 2) (both normal powers of two for n from -150 to 128): the
    /// first product is exact (p lies in [0.7, 1.5], so p 2^(n - m) is a normal float), the second rounds once, only where
    /// the result is subnormal, which is exactly what vscalefps does with p and n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-104f)), Vector256.Create(89f));
        var n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1f / 5040);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 720));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var k = Vector256.ConvertToInt32(n);
        var m = Vector256.ShiftRightArithmetic(k, 1);
        return p * PowerOfTwo(k - m) * PowerOfTwo(m);
    }

    // 2^k for k from -126 to 127, built in the exponent field.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PowerOfTwo(Vector256<int> k) => Vector256.ShiftLeft(k + Vector256.Create(127), 23).AsSingle();
}
