using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

/// <summary>
/// General matrix product C (+)= op(A) op(B) with op(X) = X or X^T, row-major, generic over float and double.
/// </summary>
/// <remarks>
/// The classic packed-panel design (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", 2008):
/// a KC x NC panel of op(B) and an MC x KC block of op(A) are copied into contiguous slivers, transposing on the way (so
/// the four transpose cases cost the same and backward never materialises a transpose), and a register-tiled micro-kernel
/// accumulates a tile of C (8 or 6 rows by two vectors, by register count) with fused multiply-adds. Large products split their rows of C over threads. Every
/// element of C is computed by the same sequence of FMAs whatever the split, so results are bit-identical for any thread
/// count.
/// </remarks>
internal static class Gemm
{
    // Rows of the register tile come from the vector width (ISimd.TileRows): 6 on AVX2 (12 accumulators + 2 B vectors + 1
    // broadcast fit its 16 registers), 8 on AVX-512 (16 accumulators: its 32 registers allow more FMAs per B load).
    private const int RowAlignment = 24; // a multiple of every tile height, so thread splits never cut a tile
    private const int KC = 256;        // depth of the packed panels
    private const int MC = 72;         // rows of A packed at once (a multiple of every tile height), sized for L2 with a B sliver
    private const int NC = 4096;       // columns of B packed at once
    private const long ParallelMacs = 1 << 20;

    /// <summary>Number of worker threads large products use (default: all cores). Results do not depend on it.</summary>
    public static int MaxThreads { get; set; } = Environment.ProcessorCount;

    /// <param name="a">op(A) is [m, k]: A is stored [m, k], or [k, m] when <paramref name="transA"/>.</param>
    /// <param name="b">op(B) is [k, n]: B is stored [k, n], or [n, k] when <paramref name="transB"/>.</param>
    /// <param name="c">C is [m, n]; overwritten unless <paramref name="accumulate"/>.</param>
    public static void Run<T>(T[] a, int aOff, bool transA, T[] b, int bOff, bool transB, T[] c, int cOff, int m, int n, int k, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (!accumulate) Array.Clear(c, cOff, m * n);
        if (k == 0) return;
        if (m == 1) { RowTimesMatrix(a, aOff, b, bOff, transB, c, cOff, n, k); return; }
        var p = new Problem<T>(a, aOff, transA, b, bOff, transB, c, cOff, m, n, k);
        int threads = Math.Min(MaxThreads, (m + 7) / 8);
        if (threads > 1 && (long)m * n * k >= ParallelMacs) RunParallel(p, threads);
        else Dispatch(p, 0, m, 0, n);
    }

    /// <summary>
    /// A single row of C (batch-1 recurrences: h @ W^T at every step): packing B would cost as much as the product, so
    /// B is read in place, as dot products of contiguous rows (B stored [n, k]) or as row updates (B stored [k, n]).
    /// The row of op(A) is contiguous whether or not A is transposed.
    /// </summary>
    private static void RowTimesMatrix<T>(T[] a, int aOff, T[] b, int bOff, bool transB, T[] c, int cOff, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var row = a.AsSpan(aOff, k);
        var dst = c.AsSpan(cOff, n);
        if (transB)
            for (int j = 0; j < n; j++) dst[j] += System.Numerics.Tensors.TensorPrimitives.Dot<T>(row, b.AsSpan(bOff + j * k, k));
        else
            for (int q = 0; q < k; q++) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.AsSpan(bOff + q * n, n), row[q], dst, dst);
    }

    /// <summary>
    /// Splits C over threads in whole register tiles: by rows when there are enough of them, otherwise by columns (the
    /// per-step products of a recurrence have few rows, and splitting by columns also splits the packing of B instead of
    /// repeating it on every thread). Its own method, so that the single-threaded path allocates no closure.
    /// </summary>
    private static void RunParallel<T>(Problem<T> p, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = p.M, n = p.N, nr = RegisterTileWidth<T>();
        if ((m + 7) / 8 >= 2 * threads || n < 2 * nr)
        {
            int rowsPer = ((m + threads - 1) / threads + RowAlignment - 1) / RowAlignment * RowAlignment;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int r0 = t * rowsPer, r1 = Math.Min(m, r0 + rowsPer);
                if (r0 < r1) Dispatch(p, r0, r1, 0, n);
            });
        }
        else
        {
            int colsPer = ((n + threads - 1) / threads + nr - 1) / nr * nr;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int c0 = t * colsPer, c1 = Math.Min(n, c0 + colsPer);
                if (c0 < c1) Dispatch(p, 0, m, c0, c1);
            });
        }
    }

    /// <summary>Columns of the register tile (two vectors) on this machine's widest accelerated vectors.</summary>
    private static int RegisterTileWidth<T>() where T : unmanaged =>
        2 * (Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256.IsHardwareAccelerated ? Vector256<T>.Count : Vector128<T>.Count);

    private static void Dispatch<T>(Problem<T> p, int r0, int r1, int c0, int c1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) Rows<T, Simd512<T>, Vector512<T>>(p, r0, r1, c0, c1);
        else if (Vector256.IsHardwareAccelerated) Rows<T, Simd256<T>, Vector256<T>>(p, r0, r1, c0, c1);
        else Rows<T, Simd128<T>, Vector128<T>>(p, r0, r1, c0, c1);
    }

    private readonly record struct Problem<T>(T[] A, int AOff, bool TransA, T[] B, int BOff, bool TransB, T[] C, int COff, int M, int N, int K);

    /// <summary>C[r0..r1, c0..c1] += op(A)[r0..r1, :] op(B)[:, c0..c1], by packed panels.</summary>
    private static void Rows<T, TS, TV>(Problem<T> p, int r0, int r1, int c0, int c1)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        int nr = 2 * TS.Width;
        int ncMax = Math.Min(NC, RoundUp(c1 - c0, nr));
        T[] bPack = ArrayPool<T>.Shared.Rent(KC * ncMax);
        T[] aPack = ArrayPool<T>.Shared.Rent(KC * MC);
        int mr = TS.TileRows;
        T[] edge = ArrayPool<T>.Shared.Rent(mr * nr);
        try
        {
            for (int jc = c0; jc < c1; jc += NC)
            {
                int nc = Math.Min(NC, c1 - jc);
                for (int pc = 0; pc < p.K; pc += KC)
                {
                    int kc = Math.Min(KC, p.K - pc);
                    PackB(p, pc, kc, jc, nc, nr, bPack);
                    for (int ic = r0; ic < r1; ic += MC)
                    {
                        int mc = Math.Min(MC, r1 - ic);
                        PackA(p, ic, mc, pc, kc, mr, aPack);
                        for (int jr = 0; jr < nc; jr += nr)
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int rows = Math.Min(mr, mc - ir), cols = Math.Min(nr, nc - jr);
                                ref T ap = ref aPack[ir * kc];
                                ref T bp = ref bPack[jr * kc];
                                int cIndex = p.COff + (ic + ir) * p.N + jc + jr;
                                if (rows == mr && cols == nr)
                                    MicroKernel<T, TS, TV>(kc, ref ap, ref bp, ref p.C[cIndex], p.N);
                                else
                                {
                                    // Edge tile: compute a full tile into scratch, add back only the valid part.
                                    Array.Clear(edge, 0, mr * nr);
                                    MicroKernel<T, TS, TV>(kc, ref ap, ref bp, ref edge[0], nr);
                                    for (int r = 0; r < rows; r++)
                                        for (int j = 0; j < cols; j++) p.C[cIndex + r * p.N + j] += edge[r * nr + j];
                                }
                            }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(bPack);
            ArrayPool<T>.Shared.Return(aPack);
            ArrayPool<T>.Shared.Return(edge);
        }
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] as slivers of nr columns, each stored k-major (bp[p*nr + j]), zero-padded.</summary>
    private static void PackB<T>(Problem<T> p, int pc, int kc, int jc, int nc, int nr, T[] dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            var sliver = dst.AsSpan(jr * kc, kc * nr);
            if (cols < nr) sliver.Clear();
            if (!p.TransB)
                for (int q = 0; q < kc; q++)                                    // B[k, n]: rows copy straight in
                    p.B.AsSpan(p.BOff + (pc + q) * p.N + jc + jr, cols).CopyTo(sliver.Slice(q * nr, cols));
            else
            {
                // B stored [n, k]: read eight rows at once, contiguously, and write eight neighbouring columns per q.
                int j = 0;
                for (; j + 8 <= cols; j += 8)
                {
                    int r0 = p.BOff + (jc + jr + j) * p.K + pc, ld = p.K;
                    var s0 = p.B.AsSpan(r0, kc); var s1 = p.B.AsSpan(r0 + ld, kc);
                    var s2 = p.B.AsSpan(r0 + 2 * ld, kc); var s3 = p.B.AsSpan(r0 + 3 * ld, kc);
                    var s4 = p.B.AsSpan(r0 + 4 * ld, kc); var s5 = p.B.AsSpan(r0 + 5 * ld, kc);
                    var s6 = p.B.AsSpan(r0 + 6 * ld, kc); var s7 = p.B.AsSpan(r0 + 7 * ld, kc);
                    for (int q = 0; q < kc; q++)
                    {
                        var d = sliver.Slice(q * nr + j, 8);
                        d[0] = s0[q]; d[1] = s1[q]; d[2] = s2[q]; d[3] = s3[q];
                        d[4] = s4[q]; d[5] = s5[q]; d[6] = s6[q]; d[7] = s7[q];
                    }
                }
                for (; j < cols; j++)
                {
                    var src = p.B.AsSpan(p.BOff + (jc + jr + j) * p.K + pc, kc);
                    for (int q = 0; q < kc; q++) sliver[q * nr + j] = src[q];
                }
            }
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] as slivers of mr rows, each stored k-major (ap[p*mr + r]), zero-padded.</summary>
    private static void PackA<T>(Problem<T> p, int ic, int mc, int pc, int kc, int mr, T[] dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            var sliver = dst.AsSpan(ir * kc, kc * mr);
            if (rows < mr) sliver.Clear();
            if (!p.TransA)
                for (int r = 0; r < rows; r++)                                  // A[m, k]: read each row contiguously
                {
                    var src = p.A.AsSpan(p.AOff + (ic + ir + r) * p.K + pc, kc);
                    for (int q = 0; q < kc; q++) sliver[q * mr + r] = src[q];
                }
            else
                for (int q = 0; q < kc; q++)                                    // A stored [k, m]: rows of A^T are contiguous
                    p.A.AsSpan(p.AOff + (pc + q) * p.M + ic + ir, rows).CopyTo(sliver.Slice(q * mr, rows));
        }
    }

    /// <summary>The register-tiled kernel of this vector width's tile height.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel<T, TS, TV>(int kc, ref T ap, ref T bp, ref T c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        if (TS.TileRows == 8) MicroKernel8<T, TS, TV>(kc, ref ap, ref bp, ref c, ldc);
        else MicroKernel6<T, TS, TV>(kc, ref ap, ref bp, ref c, ldc);
    }

    /// <summary>C[0..6, 0..2W] += Apack (kc x 6) times Bpack (kc x 2W): twelve accumulators stay in registers across the k loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel6<T, TS, TV>(int kc, ref T ap, ref T bp, ref T c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        int w = TS.Width;
        ref T c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref T c3 = ref Unsafe.Add(ref c, 3 * ldc), c4 = ref Unsafe.Add(ref c, 4 * ldc), c5 = ref Unsafe.Add(ref c, 5 * ldc);
        TV x00 = TS.Load(ref c0), x01 = TS.Load(ref Unsafe.Add(ref c0, w));
        TV x10 = TS.Load(ref c1), x11 = TS.Load(ref Unsafe.Add(ref c1, w));
        TV x20 = TS.Load(ref c2), x21 = TS.Load(ref Unsafe.Add(ref c2, w));
        TV x30 = TS.Load(ref c3), x31 = TS.Load(ref Unsafe.Add(ref c3, w));
        TV x40 = TS.Load(ref c4), x41 = TS.Load(ref Unsafe.Add(ref c4, w));
        TV x50 = TS.Load(ref c5), x51 = TS.Load(ref Unsafe.Add(ref c5, w));
        for (int q = 0; q < kc; q++)
        {
            TV b0 = TS.Load(ref bp), b1 = TS.Load(ref Unsafe.Add(ref bp, w));
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, b0, x00); x01 = TS.Fma(a, b1, x01);
            a = TS.Broadcast(Unsafe.Add(ref ap, 1));
            x10 = TS.Fma(a, b0, x10); x11 = TS.Fma(a, b1, x11);
            a = TS.Broadcast(Unsafe.Add(ref ap, 2));
            x20 = TS.Fma(a, b0, x20); x21 = TS.Fma(a, b1, x21);
            a = TS.Broadcast(Unsafe.Add(ref ap, 3));
            x30 = TS.Fma(a, b0, x30); x31 = TS.Fma(a, b1, x31);
            a = TS.Broadcast(Unsafe.Add(ref ap, 4));
            x40 = TS.Fma(a, b0, x40); x41 = TS.Fma(a, b1, x41);
            a = TS.Broadcast(Unsafe.Add(ref ap, 5));
            x50 = TS.Fma(a, b0, x50); x51 = TS.Fma(a, b1, x51);
            ap = ref Unsafe.Add(ref ap, 6);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        TS.Store(x00, ref c0); TS.Store(x01, ref Unsafe.Add(ref c0, w));
        TS.Store(x10, ref c1); TS.Store(x11, ref Unsafe.Add(ref c1, w));
        TS.Store(x20, ref c2); TS.Store(x21, ref Unsafe.Add(ref c2, w));
        TS.Store(x30, ref c3); TS.Store(x31, ref Unsafe.Add(ref c3, w));
        TS.Store(x40, ref c4); TS.Store(x41, ref Unsafe.Add(ref c4, w));
        TS.Store(x50, ref c5); TS.Store(x51, ref Unsafe.Add(ref c5, w));
    }

    /// <summary>C[0..8, 0..2W] += Apack (kc x 8) times Bpack (kc x 2W): sixteen accumulators (AVX-512's 32 registers) stay in registers across the k loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel8<T, TS, TV>(int kc, ref T ap, ref T bp, ref T c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        int w = TS.Width;
        ref T c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref T c3 = ref Unsafe.Add(ref c, 3 * ldc), c4 = ref Unsafe.Add(ref c, 4 * ldc), c5 = ref Unsafe.Add(ref c, 5 * ldc);
        ref T c6 = ref Unsafe.Add(ref c, 6 * ldc), c7 = ref Unsafe.Add(ref c, 7 * ldc);
        TV x00 = TS.Load(ref c0), x01 = TS.Load(ref Unsafe.Add(ref c0, w));
        TV x10 = TS.Load(ref c1), x11 = TS.Load(ref Unsafe.Add(ref c1, w));
        TV x20 = TS.Load(ref c2), x21 = TS.Load(ref Unsafe.Add(ref c2, w));
        TV x30 = TS.Load(ref c3), x31 = TS.Load(ref Unsafe.Add(ref c3, w));
        TV x40 = TS.Load(ref c4), x41 = TS.Load(ref Unsafe.Add(ref c4, w));
        TV x50 = TS.Load(ref c5), x51 = TS.Load(ref Unsafe.Add(ref c5, w));
        TV x60 = TS.Load(ref c6), x61 = TS.Load(ref Unsafe.Add(ref c6, w));
        TV x70 = TS.Load(ref c7), x71 = TS.Load(ref Unsafe.Add(ref c7, w));
        for (int q = 0; q < kc; q++)
        {
            TV b0 = TS.Load(ref bp), b1 = TS.Load(ref Unsafe.Add(ref bp, w));
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, b0, x00); x01 = TS.Fma(a, b1, x01);
            a = TS.Broadcast(Unsafe.Add(ref ap, 1));
            x10 = TS.Fma(a, b0, x10); x11 = TS.Fma(a, b1, x11);
            a = TS.Broadcast(Unsafe.Add(ref ap, 2));
            x20 = TS.Fma(a, b0, x20); x21 = TS.Fma(a, b1, x21);
            a = TS.Broadcast(Unsafe.Add(ref ap, 3));
            x30 = TS.Fma(a, b0, x30); x31 = TS.Fma(a, b1, x31);
            a = TS.Broadcast(Unsafe.Add(ref ap, 4));
            x40 = TS.Fma(a, b0, x40); x41 = TS.Fma(a, b1, x41);
            a = TS.Broadcast(Unsafe.Add(ref ap, 5));
            x50 = TS.Fma(a, b0, x50); x51 = TS.Fma(a, b1, x51);
            a = TS.Broadcast(Unsafe.Add(ref ap, 6));
            x60 = TS.Fma(a, b0, x60); x61 = TS.Fma(a, b1, x61);
            a = TS.Broadcast(Unsafe.Add(ref ap, 7));
            x70 = TS.Fma(a, b0, x70); x71 = TS.Fma(a, b1, x71);
            ap = ref Unsafe.Add(ref ap, 8);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        TS.Store(x00, ref c0); TS.Store(x01, ref Unsafe.Add(ref c0, w));
        TS.Store(x10, ref c1); TS.Store(x11, ref Unsafe.Add(ref c1, w));
        TS.Store(x20, ref c2); TS.Store(x21, ref Unsafe.Add(ref c2, w));
        TS.Store(x30, ref c3); TS.Store(x31, ref Unsafe.Add(ref c3, w));
        TS.Store(x40, ref c4); TS.Store(x41, ref Unsafe.Add(ref c4, w));
        TS.Store(x50, ref c5); TS.Store(x51, ref Unsafe.Add(ref c5, w));
        TS.Store(x60, ref c6); TS.Store(x61, ref Unsafe.Add(ref c6, w));
        TS.Store(x70, ref c7); TS.Store(x71, ref Unsafe.Add(ref c7, w));
    }
}
