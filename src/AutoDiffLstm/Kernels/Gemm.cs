using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AutoDiffLstm;

/// <summary>
/// General matrix product C (+)= op(A) op(B) with op(X) = X or X^T, row-major, generic over float and double.
/// Transposed operands are packed into row-major scratch (as BLAS packs panels), so one register-tiled kernel serves all
/// four cases and backward never records a transpose. Large products split their output rows over cores; every output
/// element is reduced in the same order whatever the thread count, so results are bit-identical.
/// </summary>
internal static class Gemm
{
    private const int RowTile = 4;      // rows of C per micro-kernel
    private const int KBlock = 256;     // depth of a B panel kept in cache
    private const int NBlock = 512;     // width of a B panel kept in cache
    private const long ParallelMacs = 1 << 18;

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
        T[]? packedA = null, packedB = null;
        try
        {
            if (transA) { packedA = ArrayPool<T>.Shared.Rent(m * k); Transpose(a, aOff, k, m, packedA); a = packedA; aOff = 0; }
            if (transB) { packedB = ArrayPool<T>.Shared.Rent(k * n); Transpose(b, bOff, n, k, packedB); b = packedB; bOff = 0; }
            int threads = Math.Min(MaxThreads, m / RowTile);
            if (threads > 1 && (long)m * n * k >= ParallelMacs)
            {
                // Round the share up (not down) so that the threads cover all m rows; whole tiles keep the results bit-identical.
                int rowsPer = ((m + threads - 1) / threads + RowTile - 1) / RowTile * RowTile;
                var (pa, pb, ao, bo) = (a, b, aOff, bOff);
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    int r0 = t * rowsPer, r1 = Math.Min(m, r0 + rowsPer);
                    if (r0 < r1) Rows(pa, ao, pb, bo, c, cOff, r0, r1, n, k);
                });
            }
            else Rows(a, aOff, b, bOff, c, cOff, 0, m, n, k);
        }
        finally
        {
            if (packedA is not null) ArrayPool<T>.Shared.Return(packedA);
            if (packedB is not null) ArrayPool<T>.Shared.Return(packedB);
        }
    }

    /// <summary>dst[c, r] = src[r, c] for a rows x cols source, in cache-sized tiles.</summary>
    internal static void Transpose<T>(T[] src, int off, int rows, int cols, T[] dst) where T : unmanaged
    {
        const int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile)
            for (int c0 = 0; c0 < cols; c0 += tile)
            {
                int r1 = Math.Min(rows, r0 + tile), c1 = Math.Min(cols, c0 + tile);
                for (int r = r0; r < r1; r++)
                    for (int col = c0; col < c1; col++)
                        dst[col * rows + r] = src[off + r * cols + col];
            }
    }

    /// <summary>C[r0..r1, :] += A[r0..r1, :] B, blocked over k and n so that the B panel stays in cache.</summary>
    private static void Rows<T>(T[] a, int aOff, T[] b, int bOff, T[] c, int cOff, int r0, int r1, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j0 = 0; j0 < n; j0 += NBlock)
        {
            int j1 = Math.Min(n, j0 + NBlock);
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int k1 = Math.Min(k, k0 + KBlock);
                for (int i = r0; i < r1; i += RowTile)
                {
                    int rows = Math.Min(RowTile, r1 - i);
                    if (rows == RowTile) Tile4(a, aOff, b, bOff, c, cOff, i, j0, j1, k0, k1, n, k);
                    else
                        for (int r = i; r < i + rows; r++) Tile1(a, aOff, b, bOff, c, cOff, r, j0, j1, k0, k1, n, k);
                }
            }
        }
    }

    /// <summary>Four rows of C: each loaded B vector feeds four FMAs (C[i+r, j..] += A[i+r, p] * B[p, j..]).</summary>
    private static void Tile4<T>(T[] a, int aOff, T[] b, int bOff, T[] c, int cOff, int i, int j0, int j1, int k0, int k1, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector<T>.Count;
        ref T ra = ref MemoryMarshal.GetArrayDataReference(a);
        ref T rb = ref MemoryMarshal.GetArrayDataReference(b);
        ref T rc = ref MemoryMarshal.GetArrayDataReference(c);
        nuint a0 = (nuint)(aOff + i * k), a1 = a0 + (nuint)k, a2 = a1 + (nuint)k, a3 = a2 + (nuint)k;
        nuint c0 = (nuint)(cOff + i * n), c1 = c0 + (nuint)n, c2 = c1 + (nuint)n, c3 = c2 + (nuint)n;
        int j = j0;
        for (; j + 2 * w <= j1; j += 2 * w)
        {
            nuint jj = (nuint)j, jw = (nuint)(j + w);
            Vector<T> x00 = Vector.LoadUnsafe(ref rc, c0 + jj), x01 = Vector.LoadUnsafe(ref rc, c0 + jw);
            Vector<T> x10 = Vector.LoadUnsafe(ref rc, c1 + jj), x11 = Vector.LoadUnsafe(ref rc, c1 + jw);
            Vector<T> x20 = Vector.LoadUnsafe(ref rc, c2 + jj), x21 = Vector.LoadUnsafe(ref rc, c2 + jw);
            Vector<T> x30 = Vector.LoadUnsafe(ref rc, c3 + jj), x31 = Vector.LoadUnsafe(ref rc, c3 + jw);
            for (int p = k0; p < k1; p++)
            {
                nuint bp = (nuint)(bOff + p * n);
                Vector<T> b0 = Vector.LoadUnsafe(ref rb, bp + jj), b1 = Vector.LoadUnsafe(ref rb, bp + jw);
                nuint pp = (nuint)p;
                var v0 = new Vector<T>(Unsafe.Add(ref ra, a0 + pp));
                var v1 = new Vector<T>(Unsafe.Add(ref ra, a1 + pp));
                var v2 = new Vector<T>(Unsafe.Add(ref ra, a2 + pp));
                var v3 = new Vector<T>(Unsafe.Add(ref ra, a3 + pp));
                x00 += v0 * b0; x01 += v0 * b1;
                x10 += v1 * b0; x11 += v1 * b1;
                x20 += v2 * b0; x21 += v2 * b1;
                x30 += v3 * b0; x31 += v3 * b1;
            }
            x00.StoreUnsafe(ref rc, c0 + jj); x01.StoreUnsafe(ref rc, c0 + jw);
            x10.StoreUnsafe(ref rc, c1 + jj); x11.StoreUnsafe(ref rc, c1 + jw);
            x20.StoreUnsafe(ref rc, c2 + jj); x21.StoreUnsafe(ref rc, c2 + jw);
            x30.StoreUnsafe(ref rc, c3 + jj); x31.StoreUnsafe(ref rc, c3 + jw);
        }
        if (j < j1)
            for (int r = 0; r < RowTile; r++) Tile1(a, aOff, b, bOff, c, cOff, i + r, j, j1, k0, k1, n, k);
    }

    /// <summary>One row of C over columns [j0, j1): vector body, scalar tail.</summary>
    private static void Tile1<T>(T[] a, int aOff, T[] b, int bOff, T[] c, int cOff, int i, int j0, int j1, int k0, int k1, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector<T>.Count;
        ref T rb = ref MemoryMarshal.GetArrayDataReference(b);
        ref T rc = ref MemoryMarshal.GetArrayDataReference(c);
        int ci = cOff + i * n, ai = aOff + i * k;
        int j = j0;
        for (; j + w <= j1; j += w)
        {
            var acc = Vector.LoadUnsafe(ref rc, (nuint)(ci + j));
            for (int p = k0; p < k1; p++)
                acc += new Vector<T>(a[ai + p]) * Vector.LoadUnsafe(ref rb, (nuint)(bOff + p * n + j));
            acc.StoreUnsafe(ref rc, (nuint)(ci + j));
        }
        for (; j < j1; j++)
        {
            T acc = c[ci + j];
            for (int p = k0; p < k1; p++) acc += a[ai + p] * b[bOff + p * n + j];
            c[ci + j] = acc;
        }
    }
}
