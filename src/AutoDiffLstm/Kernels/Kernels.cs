using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

/// <summary>An elementwise function of two arguments with a scalar and a SIMD form (the JIT specialises each driver per struct).</summary>
internal interface IFused2<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Invoke(T x, T y);
    static abstract Vector<T> Invoke(Vector<T> x, Vector<T> y);
}

/// <summary>An elementwise function of three arguments with a scalar and a SIMD form.</summary>
internal interface IFused3<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Invoke(T x, T y, T z);
    static abstract Vector<T> Invoke(Vector<T> x, Vector<T> y, Vector<T> z);
}

/// <summary>SIMD drivers shared by every primitive: one loop per arity, generic over the element type and the operator.</summary>
internal static partial class Kernels
{
    /// <summary>dst[i] = F(x[i], y[i]).</summary>
    public static void Map<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IFused2<T>
    {
        int n = dst.Length, i = 0;
        ref T rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y), rd = ref MemoryMarshal.GetReference(dst);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                TOp.Invoke(Vector.LoadUnsafe(ref rx, (nuint)i), Vector.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rd, i) = TOp.Invoke(Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i));
    }

    /// <summary>acc[i] += F(x[i], y[i]): the shape of almost every backward rule (dx += dy * f'(..)).</summary>
    public static void Accumulate<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> acc)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IFused2<T>
    {
        int n = acc.Length, i = 0;
        ref T rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y), ra = ref MemoryMarshal.GetReference(acc);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.LoadUnsafe(ref ra, (nuint)i) + TOp.Invoke(Vector.LoadUnsafe(ref rx, (nuint)i), Vector.LoadUnsafe(ref ry, (nuint)i))).StoreUnsafe(ref ra, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ra, i) += TOp.Invoke(Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i));
    }

    /// <summary>sink (+)= F(x, y): written into a fresh gradient, added onto one that earlier rules began.</summary>
    public static void Accumulate<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, GradSink<T> sink)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IFused2<T>
    {
        if (sink.Overwrite) Map<T, TOp>(x, y, sink.Span);
        else Accumulate<T, TOp>(x, y, sink.Span);
    }

    /// <summary>sink (+)= x * y.</summary>
    public static void MultiplyInto<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, GradSink<T> sink) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (sink.Overwrite) System.Numerics.Tensors.TensorPrimitives.Multiply(x, y, sink.Span);
        else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, y, sink.Span, sink.Span);
    }

    /// <summary>dst (+)= src, for one block of a gradient whose sink is being filled piecewise.</summary>
    public static void CopyOrAdd<T>(ReadOnlySpan<T> src, Span<T> dst, bool overwrite) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (overwrite) src.CopyTo(dst);
        else System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
    }

    /// <summary>
    /// acc += x for a short span (one batch row of a gate's columns in a fused group): TensorPrimitives.Add checks its
    /// spans for overlap and dispatches on their length, which at 32 floats costs more than the adds (measured 3.6 ns
    /// against 2.3 ns per call).
    /// </summary>
    public static void AddInto<T>(Span<T> acc, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = acc.Length, i = 0;
        if (x.Length != n) throw new ArgumentException($"Kernels.AddInto: {x.Length} values added into {n}.", nameof(x));
        ref T ra = ref MemoryMarshal.GetReference(acc);
        ref T rx = ref MemoryMarshal.GetReference(x);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.LoadUnsafe(ref ra, (nuint)i) + Vector.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ra, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ra, i) += Unsafe.Add(ref rx, i);
    }

    /// <summary>
    /// Every row of <paramref name="rows"/> ([n, row.Length], row-major) set to <paramref name="row"/>: a bias, where a
    /// product then accumulates. One loop instead of a copy call per row (measured 8 x 6 ns for W3's [8, 128] step).
    /// </summary>
    public static void RepeatRows<T>(ReadOnlySpan<T> row, Span<T> rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = row.Length;
        if (cols == 0 || rows.Length % cols != 0)
            throw new ArgumentException($"Kernels.RepeatRows: {rows.Length} values are not whole rows of {cols}.", nameof(rows));
        int n = rows.Length / cols, w = Vector<T>.Count;
        ref T rr = ref MemoryMarshal.GetReference(row);
        ref T rd = ref MemoryMarshal.GetReference(rows);
        // Row after row (the destination streams once; the source row stays in L1).
        for (int r = 0; r < n; r++)
        {
            ref T to = ref Unsafe.Add(ref rd, r * cols);
            int j = 0;
            if (Vector.IsHardwareAccelerated)
                for (; j <= cols - w; j += w) Vector.LoadUnsafe(ref rr, (nuint)j).StoreUnsafe(ref to, (nuint)j);
            for (; j < cols; j++) Unsafe.Add(ref to, j) = Unsafe.Add(ref rr, j);
        }
    }

    /// <summary>
    /// sum += each row of <paramref name="rows"/> ([n, sum.Length], row-major), row 0 first: a bias's gradient. Each
    /// element gets the same additions in the same order as one <see cref="AddInto{T}"/> per row, so the same bits.
    /// </summary>
    /// <remarks>
    /// Rows that fit the second-level cache (<see cref="AddRowsInCacheBytes"/>) are summed four at a time with a block
    /// of the sum in registers: the sum is loaded and stored once per four rows, not once per row (measured on Zen 5:
    /// W3's [8, 128] step 0.13 against 0.07 us, its hoisted [800, 128] 9.0 against 4.5 us, W1's [64, 2048] step from
    /// cache 9-10 against 5.5-6 us). Larger ones come from memory and are read row after row: a block of columns over
    /// several rows jumps between rows, which the prefetchers do not follow (W1's [64, 2048] from memory: 27 against 17
    /// us over four rows at a time, 44 against 14 us over every row).
    /// </remarks>
    public static void AddRows<T>(ReadOnlySpan<T> rows, Span<T> sum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = sum.Length;
        if (cols == 0 || rows.Length % cols != 0)
            throw new ArgumentException($"Kernels.AddRows: {rows.Length} values are not whole rows of {cols}.", nameof(rows));
        bool inCache = (long)rows.Length * Unsafe.SizeOf<T>() <= AddRowsInCacheBytes;
        if (inCache && Vector512.IsHardwareAccelerated) AddRowsFourAtATime<T, Simd512<T>, Vector512<T>>(rows, sum);
        else if (inCache && Vector256.IsHardwareAccelerated) AddRowsFourAtATime<T, Simd256<T>, Vector256<T>>(rows, sum);
        else AddRowsOneAtATime(rows, sum);
    }

    /// <summary>The size up to which <see cref="AddRows{T}"/> takes its rows to be in cache (a second-level cache's 1 MB on Zen 4 and 5).</summary>
    internal const int AddRowsInCacheBytes = 1 << 20;

    private static void AddRowsFourAtATime<T, TS, TV>(ReadOnlySpan<T> rows, Span<T> sum)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        int cols = sum.Length, n = rows.Length / cols, w = TS.Width;
        ref T rs = ref MemoryMarshal.GetReference(sum);
        ref T first = ref MemoryMarshal.GetReference(rows);
        for (int start = 0; start < n; start += 4)
        {
            int end = Math.Min(n, start + 4), j = 0;
            for (; j <= cols - 4 * w; j += 4 * w)
            {
                TV s0 = TS.Load(ref Unsafe.Add(ref rs, j)), s1 = TS.Load(ref Unsafe.Add(ref rs, j + w));
                TV s2 = TS.Load(ref Unsafe.Add(ref rs, j + 2 * w)), s3 = TS.Load(ref Unsafe.Add(ref rs, j + 3 * w));
                for (int r = start; r < end; r++)
                {
                    ref T row = ref Unsafe.Add(ref first, r * cols + j);
                    s0 = TS.Add(s0, TS.Load(ref row));
                    s1 = TS.Add(s1, TS.Load(ref Unsafe.Add(ref row, w)));
                    s2 = TS.Add(s2, TS.Load(ref Unsafe.Add(ref row, 2 * w)));
                    s3 = TS.Add(s3, TS.Load(ref Unsafe.Add(ref row, 3 * w)));
                }
                TS.Store(s0, ref Unsafe.Add(ref rs, j));
                TS.Store(s1, ref Unsafe.Add(ref rs, j + w));
                TS.Store(s2, ref Unsafe.Add(ref rs, j + 2 * w));
                TS.Store(s3, ref Unsafe.Add(ref rs, j + 3 * w));
            }
            for (; j <= cols - w; j += w)
            {
                TV s = TS.Load(ref Unsafe.Add(ref rs, j));
                for (int r = start; r < end; r++) s = TS.Add(s, TS.Load(ref Unsafe.Add(ref first, r * cols + j)));
                TS.Store(s, ref Unsafe.Add(ref rs, j));
            }
            for (; j < cols; j++)
            {
                T s = Unsafe.Add(ref rs, j);
                for (int r = start; r < end; r++) s += Unsafe.Add(ref first, r * cols + j);
                Unsafe.Add(ref rs, j) = s;
            }
        }
    }

    private static void AddRowsOneAtATime<T>(ReadOnlySpan<T> rows, Span<T> sum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = sum.Length, n = rows.Length / cols, w = Vector<T>.Count;
        ref T rs = ref MemoryMarshal.GetReference(sum);
        for (int r = 0; r < n; r++)
        {
            ref T row = ref Unsafe.Add(ref MemoryMarshal.GetReference(rows), r * cols);
            int j = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; j <= cols - 4 * w; j += 4 * w)
                {
                    (Vector.LoadUnsafe(ref rs, (nuint)j) + Vector.LoadUnsafe(ref row, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
                    (Vector.LoadUnsafe(ref rs, (nuint)(j + w)) + Vector.LoadUnsafe(ref row, (nuint)(j + w))).StoreUnsafe(ref rs, (nuint)(j + w));
                    (Vector.LoadUnsafe(ref rs, (nuint)(j + 2 * w)) + Vector.LoadUnsafe(ref row, (nuint)(j + 2 * w))).StoreUnsafe(ref rs, (nuint)(j + 2 * w));
                    (Vector.LoadUnsafe(ref rs, (nuint)(j + 3 * w)) + Vector.LoadUnsafe(ref row, (nuint)(j + 3 * w))).StoreUnsafe(ref rs, (nuint)(j + 3 * w));
                }
                for (; j <= cols - w; j += w) (Vector.LoadUnsafe(ref rs, (nuint)j) + Vector.LoadUnsafe(ref row, (nuint)j)).StoreUnsafe(ref rs, (nuint)j);
            }
            for (; j < cols; j++) Unsafe.Add(ref rs, j) += Unsafe.Add(ref row, j);
        }
    }

    /// <summary>acc[i] += F(x[i], y[i], z[i]).</summary>
    public static void Accumulate<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> acc)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IFused3<T>
    {
        int n = acc.Length, i = 0;
        ref T rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y), rz = ref MemoryMarshal.GetReference(z), ra = ref MemoryMarshal.GetReference(acc);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                (Vector.LoadUnsafe(ref ra, (nuint)i) + TOp.Invoke(Vector.LoadUnsafe(ref rx, (nuint)i), Vector.LoadUnsafe(ref ry, (nuint)i), Vector.LoadUnsafe(ref rz, (nuint)i))).StoreUnsafe(ref ra, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ra, i) += TOp.Invoke(Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i), Unsafe.Add(ref rz, i));
    }

    /// <summary>Index of the first NaN or infinity, or -1.</summary>
    public static int FirstNonFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // x - x is 0 for finite values and NaN for NaN/Inf, so one vector compare finds both.
        int n = x.Length, i = 0;
        ref T r = ref MemoryMarshal.GetReference(x);
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var v = Vector.LoadUnsafe(ref r, (nuint)i);
                if (!Vector.EqualsAll(v - v, Vector<T>.Zero)) break;
            }
        for (; i < n; i++)
            if (!T.IsFinite(Unsafe.Add(ref r, i))) return i;
        return -1;
    }
}
