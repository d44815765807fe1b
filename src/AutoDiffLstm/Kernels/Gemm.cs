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
/// accumulates a tile of C (8 or 6 rows by two vectors, by register count) with fused multiply-adds. Large products split C
/// over the <see cref="WorkerTeam"/> (by rows, or by columns when there are few rows): the operand every block would
/// otherwise pack for itself (a large B for blocks of rows, A for blocks of columns) is packed once by the threads
/// together (a small B once by each thread, for its own cache), and the blocks, several per thread, are claimed by
/// whichever thread is free; a parameter's packed panels are kept
/// for a whole pass inside a <see cref="PackedOperands"/> scope; when a block of A would serve at most two register
/// tiles' worth of rows or columns, the micro-kernel reads A in place instead of packing it; one or two rows times a
/// parameter (batch-1 and batch-2 recurrences) run a row kernel instead of a mostly empty register tile, with the
/// tile's sums. An overwritten C is never cleared or filled first: the first depth block adds its sums to a start row
/// (a bias, or zeros) as it stores them. Every element of C is computed by the same sequence of FMAs whatever the split,
/// so results are bit-identical for any thread count, and a product with a parameter gives the same bits with or without
/// kept operands.
/// </remarks>
internal static class Gemm
{
    // Rows of the register tile come from the vector width (ISimd.TileRows): 6 on AVX2 (12 accumulators + 2 B vectors + 1
    // broadcast fit its 16 registers), 8 on AVX-512 (16 accumulators: its 32 registers allow more FMAs per B load).
    private const int KC = 256;        // depth of the packed panels
    private const int MC = 72;         // rows of A packed at once (a multiple of every tile height), sized for L2 with a B sliver
    private const int NC = 4096;       // columns of B packed at once
    // Each thread's share of a split product is at least this many multiply-adds (about 22 us at 190 GFLOP/s): a worker
    // must be signalled and must pull operands the calling thread has just written into its own cache. Measured with two
    // threads on the AMD machine (2026-12-03, iterations alternated in one process): splitting W3's 3.3M-MAC hoisted
    // products made the iteration about 6 % slower than one thread, and the 1M-2M-MAC per-step products of B = 64 or 128
    // at H = 64 about 10-15 % slower; W2's 8.4M-MAC per-step products and the 4.2M of B = 64, H = 128 gain 10-25 %.
    // Rechecked with workers kept warm (WorkerTeam's 5 ms spin): a 512K minimum was still 7-20 % slower on those small
    // models, a 4M one 4-5 % slower at B = 64, H = 128 and B = 32, H = 192.
    private const long MinMacsPerThread = 1 << 21;
    private const int CachedPackMaxRows = 4 * MC; // above this, packing B is a small share of the product: not worth a cached copy
    // Row kernel or register tile for a few rows over a kept operand, measured on one core (double, the per-step shapes
    // of H = 32 and 64): with 2 rows the row kernel took 0.4-0.8 of the tile's time at every shape; with 3 and 4 rows
    // 0.4-1.35, slower at 4H x H = 256 x 64.
    private const int RowKernelMaxRows = 2;

    /// <param name="a">op(A) is [m, k]: A is stored [m, k], or [k, m] when <paramref name="transA"/>.</param>
    /// <param name="b">op(B) is [k, n]: B is stored [k, n], or [n, k] when <paramref name="transB"/>.</param>
    /// <param name="c">C is [m, n]; overwritten unless <paramref name="accumulate"/>.</param>
    /// <param name="accumulate">C += op(A) op(B); otherwise C = op(A) op(B), or bias + op(A) op(B).</param>
    /// <param name="constantB">
    /// B is a parameter (a leaf tensor's storage): inside a <see cref="PackedOperands"/> scope its packed form is kept and
    /// reused by the next product with the same operand (the recurrent weight at every time step). Same results either way.
    /// </param>
    /// <param name="bias">
    /// A row of n values (or more; the first n are read) every row of C starts from, as a linear layer's bias; only when
    /// C is overwritten. The same bits as filling each row with it and accumulating, without that pass over C: where the
    /// products run tiled, the first depth block adds its sums to the bias (or to zero, when overwriting without one)
    /// instead of to C.
    /// </param>
    public static void Run<T>(T[] a, int aOff, bool transA, T[] b, int bOff, bool transB, T[] c, int cOff, int m, int n, int k, bool accumulate,
        bool constantB = false, T[]? bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bias is not null && (accumulate || bias.Length < n))
            throw new ArgumentException(
                $"Gemm: a bias of {bias.Length} values for C [{m}, {n}]{(accumulate ? " that is accumulated into" : "")}: expected at least {n} values, and C overwritten.", nameof(bias));
        if (m == 0 || n == 0) return;
        // The packing loops and the micro-kernel read through unchecked references: the extents are checked once, here.
        if (aOff < 0 || bOff < 0 || cOff < 0 || m < 0 || n < 0 || k < 0
            || (long)aOff + (long)m * k > a.Length || (long)bOff + (long)k * n > b.Length || (long)cOff + (long)m * n > c.Length)
            throw new ArgumentException(
                $"Gemm: op(A) [{m}, {k}] at offset {aOff} of {a.Length}, op(B) [{k}, {n}] at {bOff} of {b.Length}, C [{m}, {n}] at {cOff} of {c.Length}: an operand does not fit its array.");
        bool rowKernel = constantB && (m == 1 || (m <= RowKernelMaxRows && !transA));
        // The row kernel and the tiled path start C's rows from a start row; the others need C filled first.
        T[]? start = accumulate ? null : bias ?? ZeroRow<T>.Of(n);
        if (start is not null && !(k > 0 && (rowKernel || (m > 1 && n > 1 && k > 1))))
        {
            if (bias is not null) Kernels.RepeatRows<T>(bias.AsSpan(0, n), c.AsSpan(cOff, m * n));
            else Array.Clear(c, cOff, m * n);
            start = null;
        }
        if (k == 0) return;
        var p = new Problem<T>(a, aOff, transA, b, bOff, transB, c, cOff, m, n, k, null, start);
        bool cached = constantB && m <= CachedPackMaxRows && PackedOperands.Active;
        if (rowKernel)
        {
            // One or two rows times a parameter (the per-step products of a batch-1 or batch-2 recurrence): the row
            // kernel, row by row, where an 8-row register tile would multiply six or seven rows of padding. The sums are
            // the tile's (every element is the same chain of FMAs from zero per depth block, then added to C), and the
            // same whether the parameter was kept packed or is packed now: checkpointing recomputes a forward pass inside
            // backward's scope and requires the same bits.
            var packedB = cached ? CachedPackedB(p) : PackAllOfB(p, Scratch<T>.Rent(PackedLength(p)));
            for (int r = 0; r < m; r++) RowTimesPacked(ref a[aOff + r * k], packedB, ref c[cOff + r * n], n, k, start);
            if (!cached) Scratch<T>.Return(packedB);
            return;
        }
        if (m == 1)
        {
            RowTimesMatrix(a, aOff, b, bOff, transB, c, cOff, n, k);
            return;
        }
        if (n == 1 || k == 1)
        {
            // A matrix times a vector (mLSTM's read-out C q) or an outer product (its update v k^T): a register tile
            // would be one column or one depth step wide and multiply padding, so these are dot products or row updates.
            // C [m, 1] = op(A) b is the row b^T times op(A)^T: the single-row kernel with A as its right operand (the column
            // b is contiguous whether or not B is transposed).
            if (n == 1) RowTimesMatrix(b, bOff, a, aOff, !transA, c, cOff, m, k);
            else OuterProduct(a, aOff, b, bOff, c, cOff, m, n);
            return;
        }
        if (cached) p = p with { PackedB = CachedPackedB(p) };
        int threads = ThreadsFor(m, n, k);
        if (threads > 1) RunParallel(p, threads);
        else Dispatch(p, 0, m, 0, n);
    }

    /// <summary>A row of zeros at least n long, never written: where an overwritten product without a bias starts its rows.</summary>
    private static class ZeroRow<T> where T : unmanaged
    {
        private static T[] row = [];

        public static T[] Of(int n)
        {
            var zeros = row;
            if (zeros.Length < n) row = zeros = new T[Math.Max(n, 2 * zeros.Length)]; // a race only makes two
            return zeros;
        }
    }

    /// <summary>Threads an [m, k] x [k, n] product is split over: as many as give each a share of at least <see cref="MinMacsPerThread"/>, at most <see cref="Parallelism.MaxThreads"/>.</summary>
    internal static int ThreadsFor(int m, int n, int k) =>
        WorkerTeam.OnSideLane ? 1 : (int)Math.Max(1, Math.Min(Parallelism.MaxThreads, (long)m * n * k / MinMacsPerThread));

    /// <summary>
    /// All of op(B) packed, from the scope's cache or packed now: for each depth block pc, the slivers of every column
    /// in order, so the sliver of columns [j, j + nr) at depth pc starts at pc * roundUp(N, nr) + j * kc.
    /// </summary>
    private static T[] CachedPackedB<T>(Problem<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = RegisterTileWidth<T>();
        if (PackedOperands.Find(p.B, p.BOff, p.TransB, p.K, p.N, nr) is { } cached) return cached;
        return PackAllOfB(p, PackedOperands.Add(p.B, p.BOff, p.TransB, p.K, p.N, nr, PackedLength(p)));
    }

    /// <summary>
    /// A single row of C times an operand that is not a parameter (a weight gradient's dy^T x with one output): packing B
    /// would cost as much as the product, so B is read in place, as dot products of contiguous rows (B stored [n, k]) or
    /// as row updates (B stored [k, n]). The row of op(A) is contiguous whether or not A is transposed.
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

    /// <summary>C [m, n] += a b^T for depth 1: a's m values and b's n values are contiguous whatever the transposes.</summary>
    private static void OuterProduct<T>(T[] a, int aOff, T[] b, int bOff, T[] c, int cOff, int m, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var row = b.AsSpan(bOff, n);
        for (int i = 0; i < m; i++)
        {
            var dst = c.AsSpan(cOff + i * n, n);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(row, a[aOff + i], dst, dst);
        }
    }

    /// <summary>Elements of all of op(B) packed: K rows of N columns rounded up to whole slivers.</summary>
    private static int PackedLength<T>(Problem<T> p) where T : unmanaged, IFloatingPointIeee754<T> => p.K * RoundUp(p.N, RegisterTileWidth<T>());

    /// <summary>Packs all of op(B) into <paramref name="packed"/> in the layout <see cref="CachedPackedB"/> describes.</summary>
    private static T[] PackAllOfB<T>(Problem<T> p, T[] packed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = RegisterTileWidth<T>(), width = RoundUp(p.N, nr);
        for (int pc = 0; pc < p.K; pc += KC)
        {
            int kc = Math.Min(KC, p.K - pc);
            PackB(p, pc, kc, 0, p.N, nr, packed.AsSpan(pc * width, kc * width));
        }
        return packed;
    }

    /// <summary>
    /// A single row of C over all of op(B) packed (kept in the scope, or packed for this product): the per-step products
    /// of batch-1 recurrences, h @ W^T and dgates @ W.
    /// Four column slivers at a time: eight independent accumulators keep both FMA pipes busy, where one sliver alone
    /// would wait on its own dependency chain at every depth step. Each depth block is summed from zero, then added to C,
    /// as the micro-kernel does.
    /// </summary>
    private static void RowTimesPacked<T>(ref T a, T[] packed, ref T c, int n, int k, T[]? start) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) RowTimesPacked<T, Simd512<T>, Vector512<T>>(ref a, packed, ref c, n, k, start);
        else if (Vector256.IsHardwareAccelerated) RowTimesPacked<T, Simd256<T>, Vector256<T>>(ref a, packed, ref c, n, k, start);
        else RowTimesPacked<T, Simd128<T>, Vector128<T>>(ref a, packed, ref c, n, k, start);
    }

    private static void RowTimesPacked<T, TS, TV>(ref T a, T[] packed, ref T c, int n, int k, T[]? start)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        int w = TS.Width, nr = 2 * w, group = 4 * nr, width = RoundUp(n, nr);
        Span<T> edge = stackalloc T[4 * 2 * Vector512<T>.Count]; // a group's sums when it runs past column n
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            var from = pc == 0 ? start : null;   // the first depth block starts from the start row, if any
            ref T block = ref packed[pc * width];
            ref T ap = ref Unsafe.Add(ref a, pc);
            for (int j = 0; j < width; j += group)
            {
                // Sliver s of the group starts at (j + s nr) kc; at depth q its nr values are contiguous.
                ref T b0 = ref Unsafe.Add(ref block, j * kc);
                int slivers = Math.Min(4, (width - j) / nr);
                if (slivers < 4)
                {
                    for (int s = 0; s < slivers; s++) // the last, short group: one sliver at a time
                    {
                        ref T bs = ref Unsafe.Add(ref b0, s * nr * kc);
                        TV lo = TS.Zero, hi = TS.Zero;
                        for (int q = 0; q < kc; q++)
                        {
                            TV x = TS.Broadcast(Unsafe.Add(ref ap, q));
                            lo = TS.Fma(x, TS.Load(ref Unsafe.Add(ref bs, q * nr)), lo);
                            hi = TS.Fma(x, TS.Load(ref Unsafe.Add(ref bs, q * nr + w)), hi);
                        }
                        TS.Store(lo, ref edge[s * nr]);
                        TS.Store(hi, ref edge[s * nr + w]);
                    }
                    AddColumns(edge, ref Unsafe.Add(ref c, j), n - j, from, j);
                    continue;
                }
                ref T b1 = ref Unsafe.Add(ref b0, nr * kc);
                ref T b2 = ref Unsafe.Add(ref b1, nr * kc);
                ref T b3 = ref Unsafe.Add(ref b2, nr * kc);
                TV s0 = TS.Zero, s1 = TS.Zero, s2 = TS.Zero, s3 = TS.Zero, s4 = TS.Zero, s5 = TS.Zero, s6 = TS.Zero, s7 = TS.Zero;
                for (int q = 0; q < kc; q++)
                {
                    TV x = TS.Broadcast(Unsafe.Add(ref ap, q));
                    int o = q * nr;
                    s0 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b0, o)), s0);
                    s1 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b0, o + w)), s1);
                    s2 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b1, o)), s2);
                    s3 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b1, o + w)), s3);
                    s4 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b2, o)), s4);
                    s5 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b2, o + w)), s5);
                    s6 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b3, o)), s6);
                    s7 = TS.Fma(x, TS.Load(ref Unsafe.Add(ref b3, o + w)), s7);
                }
                bool inside = j + group <= n;
                ref T dst = ref inside ? ref Unsafe.Add(ref c, j) : ref edge[0];
                if (inside)
                {
                    ref T src = ref from is null ? ref dst : ref from[j];
                    s0 = TS.Add(TS.Load(ref src), s0); s1 = TS.Add(TS.Load(ref Unsafe.Add(ref src, w)), s1);
                    s2 = TS.Add(TS.Load(ref Unsafe.Add(ref src, 2 * w)), s2); s3 = TS.Add(TS.Load(ref Unsafe.Add(ref src, 3 * w)), s3);
                    s4 = TS.Add(TS.Load(ref Unsafe.Add(ref src, 4 * w)), s4); s5 = TS.Add(TS.Load(ref Unsafe.Add(ref src, 5 * w)), s5);
                    s6 = TS.Add(TS.Load(ref Unsafe.Add(ref src, 6 * w)), s6); s7 = TS.Add(TS.Load(ref Unsafe.Add(ref src, 7 * w)), s7);
                }
                TS.Store(s0, ref dst); TS.Store(s1, ref Unsafe.Add(ref dst, w));
                TS.Store(s2, ref Unsafe.Add(ref dst, 2 * w)); TS.Store(s3, ref Unsafe.Add(ref dst, 3 * w));
                TS.Store(s4, ref Unsafe.Add(ref dst, 4 * w)); TS.Store(s5, ref Unsafe.Add(ref dst, 5 * w));
                TS.Store(s6, ref Unsafe.Add(ref dst, 6 * w)); TS.Store(s7, ref Unsafe.Add(ref dst, 7 * w));
                if (!inside) AddColumns(edge, ref Unsafe.Add(ref c, j), n - j, from, j);
            }
        }
    }

    /// <summary>
    /// C[0..count) = from[0..count) + sums[0..count), from being C itself or the start row at <paramref name="at"/>: the
    /// columns of a group of slivers that lie inside C (the rest is padding).
    /// </summary>
    private static void AddColumns<T>(Span<T> sums, ref T c, int count, T[]? start, int at) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int t = 0; t < Math.Min(count, sums.Length); t++) Unsafe.Add(ref c, t) = (start is null ? Unsafe.Add(ref c, t) : start[at + t]) + sums[t];
    }

    /// <summary>
    /// Splits C over threads in whole register tiles: by rows when every thread gets at least a block of MC rows,
    /// otherwise by columns (the per-step products of a recurrence have few rows: split by rows, every thread would
    /// pack all of B for a handful of rows; split by columns, each packs only its own share). Its own method, so that
    /// the single-threaded path allocates no closure.
    /// </summary>
    private static void RunParallel<T>(Problem<T> p, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = p.M, n = p.N, nr = RegisterTileWidth<T>(), mr = RegisterTileHeight<T>();
        bool byRows = m >= threads * MC || n < 2 * nr;
        var split = Split<T>.OfThisThread;
        if (!byRows && m <= MC)
        {
            // Few rows (a recurrence's per-step products): every column block would pack all of A for itself, so the
            // threads pack it once together, a depth block each, then claim column blocks, several per thread, so that
            // a thread on the slower core takes fewer (see WorkerTeam.Run(threads, parts, body)).
            var packedA = Scratch<T>.Rent(RoundUp(m, mr) * p.K);
            (split.Problem, split.PackedA, split.ByRows) = (p, packedA, false);
            WorkerTeam.Run(threads, (p.K + KC - 1) / KC, split.PackDepthBlock);
            int slivers = (n + nr - 1) / nr, parts = Math.Min(slivers, ColumnBlocksPerThread * threads);
            split.Problem = p with { PackedA = packedA };
            split.Share = (slivers + parts - 1) / parts * nr;
            WorkerTeam.Run(threads, (n + split.Share - 1) / split.Share, split.Part);
            Scratch<T>.Return(packedA);
        }
        else if (byRows && (p.PackedB is not null || PackedLength(p) >= SharedPackedBMin))
        {
            // Every block of rows would pack all of B for itself, so the threads pack it once together (unless it is
            // kept packed), a depth block each, then claim blocks of rows, several per thread.
            var packedB = p.PackedB;
            if (packedB is null)
            {
                // A part per depth block and block of columns: at least two per thread (a product as shallow as W1's
                // batched weight gradient has a single depth block).
                packedB = Scratch<T>.Rent(PackedLength(p));
                int depthBlocks = (p.K + KC - 1) / KC, columnBlocks = Math.Min((n + nr - 1) / nr, (2 * threads + depthBlocks - 1) / depthBlocks);
                (split.Problem, split.PackedB) = (p, packedB);
                split.PackColumns = RoundUp((n + columnBlocks - 1) / columnBlocks, nr);
                split.PackColumnBlocks = (n + split.PackColumns - 1) / split.PackColumns;
                WorkerTeam.Run(threads, depthBlocks * split.PackColumnBlocks, split.PackBBlock);
            }
            (split.Problem, split.ByRows) = (p with { PackedB = packedB }, true);
            WorkerTeam.Run(threads, split.ShareRows(m, mr, threads), split.Part);
            if (p.PackedB is null) Scratch<T>.Return(packedB);
        }
        else if (byRows)
        {
            // A small B: each thread packs it once for itself, where it stays in that core's cache, then claims blocks
            // of rows, several per thread.
            (split.Problem, split.ByRows, split.Job) = (p, true, Interlocked.Increment(ref jobs));
            WorkerTeam.Run(threads, split.ShareRows(m, mr, threads), split.PartOwnB);
        }
        else
        {
            // More rows than a packed A holds, too few to split by rows: one block of columns per thread.
            (split.Problem, split.ByRows) = (p, false);
            split.Share = RoundUp((n + threads - 1) / threads, nr);
            WorkerTeam.Run(threads, split.Part);
        }
        (split.Problem, split.PackedA, split.PackedB) = (default, null, null); // drop the arrays
    }

    private static long jobs;   // numbers the products whose threads pack B each for itself (Split.PartOwnB)

    // Blocks per thread of a product split over a shared packed operand (claimed as threads free up).
    private const int ColumnBlocksPerThread = 4, RowBlocksPerThread = 4;

    // Elements of packed B from which threads share one packing. A smaller B (W1's batched weight gradient, 256 x 512)
    // packed by each thread for itself stays in that core's cache; packed once, half of it is read from the other core's,
    // which measured 8 % slower on two threads (1.71 against 1.59 ms); W1's 2048 x 512 weight shared measured 7 % faster.
    private const int SharedPackedBMin = 1 << 18;

    /// <summary>
    /// One thread's parallel product, reused by its calls: its part delegate is made once, where a lambda would capture
    /// the problem afresh (a closure and a delegate per product: at W2 most of what a training iteration allocated).
    /// </summary>
    private sealed class Split<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static Split<T>? mine;

        public static Split<T> OfThisThread => mine ??= new Split<T>();

        public Problem<T> Problem;
        public bool ByRows;
        public int Share;   // rows or columns per part
        public T[]? PackedA, PackedB;   // where PackDepthBlock packs all of A, PackBBlock all of B
        public int PackColumns, PackColumnBlocks;   // PackBBlock's blocks: columns each (whole slivers), blocks per depth block
        public long Job;   // the product PartOwnB's blocks belong to
        public readonly Action<int> Part, PackDepthBlock, PackBBlock, PartOwnB;

        private Split() => (Part, PackDepthBlock, PackBBlock, PartOwnB) = (Run, Pack, PackB, RunOwnB);

        /// <summary>Sets Share to blocks of whole register tiles of rows, RowBlocksPerThread per thread; returns the block count.</summary>
        public int ShareRows(int m, int mr, int threads)
        {
            int tiles = (m + mr - 1) / mr, parts = Math.Min(tiles, RowBlocksPerThread * threads);
            Share = (tiles + parts - 1) / parts * mr;
            return (m + Share - 1) / Share;
        }

        // The running thread's own packed copy of a small B and the product it was packed for: kept between products
        // (at most SharedPackedBMin elements per thread), so that steady-state products allocate nothing.
        [ThreadStatic] private static T[]? ownB;
        [ThreadStatic] private static long ownJob;

        // A block of rows with all of B packed by this thread, the first time it takes a block of this product.
        private void RunOwnB(int t)
        {
            var p = Problem;
            int length = PackedLength(p);
            if (ownJob != Job || ownB is null || ownB.Length < length)
            {
                if (ownB is null || ownB.Length < length) ownB = new T[length];
                PackAllOfB(p, ownB);
                ownJob = Job;
            }
            var packed = p with { PackedB = ownB };
            int from = t * Share, to = Math.Min(p.M, from + Share);
            if (from < to) Dispatch(packed, from, to, 0, p.N);
        }

        // One depth block of one block of op(B)'s columns, in CachedPackedB's layout (the sliver of columns [j, j + nr)
        // at depth pc starts at pc * roundUp(N, nr) + j * kc).
        private void PackB(int part)
        {
            var p = Problem;
            int pc = part / PackColumnBlocks * KC, jc = part % PackColumnBlocks * PackColumns;
            int kc = Math.Min(KC, p.K - pc), nc = Math.Min(PackColumns, p.N - jc), nr = RegisterTileWidth<T>(), width = RoundUp(p.N, nr);
            Gemm.PackB(p, pc, kc, jc, nc, nr, PackedB.AsSpan(pc * width + jc * kc, kc * RoundUp(nc, nr)));
        }

        // Depth block q of all of op(A)'s rows, where Rows reads it (PackedAOffset).
        private void Pack(int q)
        {
            var p = Problem;
            int pc = q * KC, mr = RegisterTileHeight<T>();
            PackA(p, 0, p.M, pc, Math.Min(KC, p.K - pc), mr, PackedA.AsSpan(PackedAOffset(p, pc, mr)));
        }

        private void Run(int t)
        {
            var p = Problem;
            int from = t * Share, to = Math.Min(ByRows ? p.M : p.N, from + Share);
            if (from >= to) return;
            if (ByRows) Dispatch(p, from, to, 0, p.N);
            else Dispatch(p, 0, p.M, from, to);
        }
    }

    /// <summary>Rows of the register tile that <see cref="Dispatch"/> uses on this machine.</summary>
    private static int RegisterTileHeight<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector512.IsHardwareAccelerated ? Simd512<T>.TileRows : Vector256.IsHardwareAccelerated ? Simd256<T>.TileRows : Simd128<T>.TileRows;

    /// <summary>Columns of the register tile (two vectors) on this machine's widest accelerated vectors.</summary>
    private static int RegisterTileWidth<T>() where T : unmanaged =>
        2 * (Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256.IsHardwareAccelerated ? Vector256<T>.Count : Vector128<T>.Count);

    private static void Dispatch<T>(Problem<T> p, int r0, int r1, int c0, int c1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) Rows<T, Simd512<T>, Vector512<T>>(p, r0, r1, c0, c1);
        else if (Vector256.IsHardwareAccelerated) Rows<T, Simd256<T>, Vector256<T>>(p, r0, r1, c0, c1);
        else Rows<T, Simd128<T>, Vector128<T>>(p, r0, r1, c0, c1);
    }

    /// <summary>One product; <c>PackedB</c>, when set, is all of op(B) already packed (<see cref="CachedPackedB"/>).</summary>
    /// <remarks>
    /// <c>Start</c>, when set, is the row of N values every row of C starts from (the bias, or zeros): the first depth
    /// block adds its sums to it and stores them into C, which is never read, instead of C being filled with it first.
    /// <c>PackedA</c>, when set, is all of op(A) packed (at most <see cref="MC"/> rows; <see cref="PackedAOffset"/>).
    /// </remarks>
    private readonly record struct Problem<T>(T[] A, int AOff, bool TransA, T[] B, int BOff, bool TransB, T[] C, int COff, int M, int N, int K, T[]? PackedB,
        T[]? Start = null, T[]? PackedA = null);

    /// <summary>Where depth block pc of an A packed whole starts: each block holds every row's slivers, kc deep.</summary>
    private static int PackedAOffset<T>(Problem<T> p, int pc, int mr) where T : unmanaged, IFloatingPointIeee754<T> => pc * RoundUp(p.M, mr);

    /// <summary>C[r0..r1, c0..c1] += op(A)[r0..r1, :] op(B)[:, c0..c1], by packed panels.</summary>
    private static void Rows<T, TS, TV>(Problem<T> p, int r0, int r1, int c0, int c1)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        int nr = 2 * TS.Width;
        int ncMax = Math.Min(NC, RoundUp(c1 - c0, nr)), width = RoundUp(p.N, nr);
        bool prepacked = p.PackedB is not null;
        T[] bPack = p.PackedB ?? Scratch<T>.Rent(KC * ncMax);
        T[]? aPack = null; // rented on first use: a product that reads all of A in place needs none
        int mr = TS.TileRows;
        T[] edge = Scratch<T>.Rent(mr * nr);
        // Packing A pays off when its slivers are reused across many column slivers. With at most two row tiles, or at
        // most two column slivers (the per-step products of a small recurrence, the narrow products of its backward),
        // it costs more than it saves, so the kernel reads A in place: same FMAs in the same order, same results.
        bool direct = (r1 - r0 <= 2 * mr || c1 - c0 <= 2 * nr) && p.PackedA is null;
        // Reading in place, a last partial row tile needs no padded copy either when every column sliver is whole (the
        // short tiles read only its rows); a partial sliver's edge tile computes a full tile and needs the padding.
        bool shortInPlace = direct && (c1 - c0) % nr == 0;
        try
        {
            for (int jc = c0; jc < c1; jc += NC)
            {
                int nc = Math.Min(NC, c1 - jc);
                for (int pc = 0; pc < p.K; pc += KC)
                {
                    int kc = Math.Min(KC, p.K - pc);
                    int bBase = prepacked ? pc * width + jc * kc : 0; // where the slivers of columns jc.. start
                    if (!prepacked) PackB(p, pc, kc, jc, nc, nr, bPack);
                    for (int ic = r0; ic < r1; ic += MC)
                    {
                        int mc = Math.Min(MC, r1 - ic), full = shortInPlace ? mc : direct ? mc / mr * mr : 0;
                        // Direct: full row tiles read op(A) where it lies; only a partial last tile is packed (zero-padded).
                        // Packed whole beforehand (PackedA: r0 is 0 and one block of rows): its slivers at this depth.
                        if (p.PackedA is not null) aPack = p.PackedA;
                        else if (full < mc) PackA(p, ic + full, mc - full, pc, kc, mr, aPack ??= Scratch<T>.Rent(KC * MC));
                        int aBase = p.PackedA is not null ? PackedAOffset(p, pc, mr) : 0;
                        for (int jr = 0; jr < nc; jr += nr)
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int rows = Math.Min(mr, mc - ir), cols = Math.Min(nr, nc - jr);
                                ref T bp = ref bPack[bBase + jr * kc];
                                int cIndex = p.COff + (ic + ir) * p.N + jc + jr;
                                bool inPlace = ir < full;
                                ref T ap = ref inPlace ? ref p.A[p.TransA ? p.AOff + pc * p.M + ic + ir : p.AOff + (ic + ir) * p.K + pc]
                                    : ref aPack![aBase + (ir - full) * kc];
                                bool fromStart = pc == 0 && p.Start is not null;
                                if (cols == nr)
                                {
                                    // A full tile, or the last rows of a block (B = 8, 32 or 64 on AVX2's 6-row tile) by
                                    // shorter tiles straight into C: the same FMAs for every element as a full tile's.
                                    ref T cc = ref p.C[cIndex];
                                    ref T from = ref fromStart ? ref p.Start![jc + jr] : ref cc;
                                    int lds = fromStart ? 0 : p.N;
                                    if (rows == mr) Tile<T, TS, TV>(kc, ref ap, inPlace, p, ref bp, ref cc, p.N, ref from, lds);
                                    else ShortTile<T, TS, TV>(rows, kc, ref ap, inPlace, p, ref bp, ref cc, p.N, ref from, lds);
                                }
                                else
                                {
                                    // Edge tile: compute a full tile into scratch, add back only the valid part.
                                    Array.Clear(edge, 0, mr * nr);
                                    Tile<T, TS, TV>(kc, ref ap, inPlace, p, ref bp, ref edge[0], nr, ref edge[0], nr);
                                    for (int r = 0; r < rows; r++)
                                        for (int j = 0; j < cols; j++)
                                            p.C[cIndex + r * p.N + j] = (fromStart ? p.Start![jc + jr + j] : p.C[cIndex + r * p.N + j]) + edge[r * nr + j];
                                }
                            }
                    }
                }
            }
        }
        finally
        {
            if (!prepacked) Scratch<T>.Return(bPack);
            if (aPack is not null && p.PackedA is null) Scratch<T>.Return(aPack);
            Scratch<T>.Return(edge);
        }
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] as slivers of nr columns, each stored k-major (bp[p*nr + j]), zero-padded.</summary>
    private static void PackB<T>(Problem<T> p, int pc, int kc, int jc, int nc, int nr, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            var sliver = dst.Slice(jr * kc, kc * nr);
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
    /// <remarks>
    /// Through references, without bounds checks, walking k in the outer loop so that each step writes one contiguous
    /// column of the sliver: when op(B) is narrow (few column slivers share a packed A, as in the products of a small
    /// recurrence or of its hoisted input projection), packing A is most of the product's time.
    /// </remarks>
    private static void PackA<T>(Problem<T> p, int ic, int mc, int pc, int kc, int mr, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T a = ref MemoryMarshal.GetArrayDataReference(p.A);
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            var sliver = dst.Slice(ir * kc, kc * mr);
            if (rows < mr) sliver.Clear();
            ref T d = ref MemoryMarshal.GetReference(sliver);
            if (!p.TransA)
            {
                // A[m, k]: element (r, q) of the sliver is at first + r * K + q.
                ref T first = ref Unsafe.Add(ref a, p.AOff + (ic + ir) * p.K + pc);
                if (rows == 8) PackEightRows(ref first, p.K, ref d, kc);
                else
                    for (int q = 0; q < kc; q++)
                    {
                        ref T col = ref Unsafe.Add(ref d, q * mr);
                        ref T src = ref Unsafe.Add(ref first, q);
                        for (int r = 0; r < rows; r++) Unsafe.Add(ref col, r) = Unsafe.Add(ref src, r * p.K);
                    }
            }
            else
            {
                // A stored [k, m]: the sliver's column q is a contiguous run of A's row pc + q.
                ref T first = ref Unsafe.Add(ref a, p.AOff + pc * p.M + ic + ir);
                int bytes = rows * Unsafe.SizeOf<T>();
                for (int q = 0; q < kc; q++)
                {
                    ref T col = ref Unsafe.Add(ref d, q * mr);
                    ref T src = ref Unsafe.Add(ref first, q * p.M);
                    // A full sliver's column is one vector (eight floats or doubles): one load and one store.
                    if (bytes == 32) Vector256.LoadUnsafe(ref Unsafe.As<T, byte>(ref src)).StoreUnsafe(ref Unsafe.As<T, byte>(ref col));
                    else if (bytes == 64) Vector512.LoadUnsafe(ref Unsafe.As<T, byte>(ref src)).StoreUnsafe(ref Unsafe.As<T, byte>(ref col));
                    else
                        for (int r = 0; r < rows; r++) Unsafe.Add(ref col, r) = Unsafe.Add(ref src, r);
                }
            }
        }
    }

    /// <summary>
    /// Eight rows of A [m, K] from <paramref name="first"/>, kc deep, as a sliver: column q (the eight rows' element q)
    /// at d[8 q]. The eight row references are kept apart so that each step is eight independent loads and stores (a
    /// loop over the rows measured 0.85 ns per element, about a seventh of the per-step products of W1's backward).
    /// </summary>
    private static void PackEightRows<T>(ref T first, int ld, ref T d, int kc) where T : unmanaged
    {
        ref T s0 = ref first;
        ref T s1 = ref Unsafe.Add(ref s0, ld);
        ref T s2 = ref Unsafe.Add(ref s1, ld);
        ref T s3 = ref Unsafe.Add(ref s2, ld);
        ref T s4 = ref Unsafe.Add(ref s3, ld);
        ref T s5 = ref Unsafe.Add(ref s4, ld);
        ref T s6 = ref Unsafe.Add(ref s5, ld);
        ref T s7 = ref Unsafe.Add(ref s6, ld);
        for (int q = 0; q < kc; q++)
        {
            ref T col = ref Unsafe.Add(ref d, 8 * q);
            col = Unsafe.Add(ref s0, q);
            Unsafe.Add(ref col, 1) = Unsafe.Add(ref s1, q);
            Unsafe.Add(ref col, 2) = Unsafe.Add(ref s2, q);
            Unsafe.Add(ref col, 3) = Unsafe.Add(ref s3, q);
            Unsafe.Add(ref col, 4) = Unsafe.Add(ref s4, q);
            Unsafe.Add(ref col, 5) = Unsafe.Add(ref s5, q);
            Unsafe.Add(ref col, 6) = Unsafe.Add(ref s6, q);
            Unsafe.Add(ref col, 7) = Unsafe.Add(ref s7, q);
        }
    }

    /// <summary>
    /// One register tile, with A packed or read in place (row-major A, or A stored transposed): C = From + the tile's
    /// sums, where From is C itself (ldc) or, in the first depth block of an overwriting product, the start row (lds 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<T, TS, TV>(int kc, ref T ap, bool inPlace, Problem<T> p, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        if (!inPlace) MicroKernel<T, TS, TV, Packed>(kc, ref ap, 0, ref bp, ref c, ldc, ref from, lds);
        else if (p.TransA) MicroKernel<T, TS, TV, ColumnMajor>(kc, ref ap, p.M, ref bp, ref c, ldc, ref from, lds);
        else MicroKernel<T, TS, TV, RowMajor>(kc, ref ap, p.K, ref bp, ref c, ldc, ref from, lds);
    }

    /// <summary>
    /// Fewer rows than a tile (<paramref name="rows"/> &lt; TileRows) in tiles of 4, 2 and 1 rows, reading A where a full
    /// tile would (a packed sliver keeps the full tile's row stride).
    /// </summary>
    private static void ShortTile<T, TS, TV>(int rows, int kc, ref T ap, bool inPlace, Problem<T> p, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        if (!inPlace) ShortTile<T, TS, TV, Packed>(rows, kc, ref ap, 0, ref bp, ref c, ldc, ref from, lds);
        else if (p.TransA) ShortTile<T, TS, TV, ColumnMajor>(rows, kc, ref ap, p.M, ref bp, ref c, ldc, ref from, lds);
        else ShortTile<T, TS, TV, RowMajor>(rows, kc, ref ap, p.K, ref bp, ref c, ldc, ref from, lds);
    }

    private static void ShortTile<T, TS, TV, TA>(int rows, int kc, ref T ap, int lda, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        for (int r = 0; r < rows;)
        {
            int take = rows - r >= 4 ? 4 : rows - r >= 2 ? 2 : 1;
            ref T a = ref Unsafe.Add(ref ap, TA.Row(r, lda));
            ref T cr = ref Unsafe.Add(ref c, r * ldc);
            ref T fr = ref Unsafe.Add(ref from, r * lds);
            if (take == 4) MicroKernel4<T, TS, TV, TA>(kc, ref a, lda, ref bp, ref cr, ldc, ref fr, lds);
            else if (take == 2) MicroKernel2<T, TS, TV, TA>(kc, ref a, lda, ref bp, ref cr, ldc, ref fr, lds);
            else MicroKernel1<T, TS, TV, TA>(kc, ref a, lda, ref bp, ref cr, ref fr);
            r += take;
        }
    }

    /// <summary>Four rows of a tile (eight accumulators); A's depth step is the full tile's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel4<T, TS, TV, TA>(int kc, ref T ap, int lda, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        int w = TS.Width, step = TA.Depth(TS.TileRows, lda);
        TV x00 = TS.Zero, x01 = TS.Zero, x10 = TS.Zero, x11 = TS.Zero, x20 = TS.Zero, x21 = TS.Zero, x30 = TS.Zero, x31 = TS.Zero;
        for (int q = 0; q < kc; q++)
        {
            TV b0 = TS.Load(ref bp), b1 = TS.Load(ref Unsafe.Add(ref bp, w));
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, b0, x00); x01 = TS.Fma(a, b1, x01);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(1, lda)));
            x10 = TS.Fma(a, b0, x10); x11 = TS.Fma(a, b1, x11);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(2, lda)));
            x20 = TS.Fma(a, b0, x20); x21 = TS.Fma(a, b1, x21);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(3, lda)));
            x30 = TS.Fma(a, b0, x30); x31 = TS.Fma(a, b1, x31);
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        AddTo<T, TS, TV>(ref c, ref from, x00, x01, w);
        AddTo<T, TS, TV>(ref Unsafe.Add(ref c, ldc), ref Unsafe.Add(ref from, lds), x10, x11, w);
        AddTo<T, TS, TV>(ref Unsafe.Add(ref c, 2 * ldc), ref Unsafe.Add(ref from, 2 * lds), x20, x21, w);
        AddTo<T, TS, TV>(ref Unsafe.Add(ref c, 3 * ldc), ref Unsafe.Add(ref from, 3 * lds), x30, x31, w);
    }

    /// <summary>Two rows of a tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel2<T, TS, TV, TA>(int kc, ref T ap, int lda, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        int w = TS.Width, step = TA.Depth(TS.TileRows, lda);
        TV x00 = TS.Zero, x01 = TS.Zero, x10 = TS.Zero, x11 = TS.Zero;
        for (int q = 0; q < kc; q++)
        {
            TV b0 = TS.Load(ref bp), b1 = TS.Load(ref Unsafe.Add(ref bp, w));
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, b0, x00); x01 = TS.Fma(a, b1, x01);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(1, lda)));
            x10 = TS.Fma(a, b0, x10); x11 = TS.Fma(a, b1, x11);
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        AddTo<T, TS, TV>(ref c, ref from, x00, x01, w);
        AddTo<T, TS, TV>(ref Unsafe.Add(ref c, ldc), ref Unsafe.Add(ref from, lds), x10, x11, w);
    }

    /// <summary>One row of a tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel1<T, TS, TV, TA>(int kc, ref T ap, int lda, ref T bp, ref T c, ref T from)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        int w = TS.Width, step = TA.Depth(TS.TileRows, lda);
        TV x00 = TS.Zero, x01 = TS.Zero;
        for (int q = 0; q < kc; q++)
        {
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, TS.Load(ref bp), x00); x01 = TS.Fma(a, TS.Load(ref Unsafe.Add(ref bp, w)), x01);
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        AddTo<T, TS, TV>(ref c, ref from, x00, x01, w);
    }

    /// <summary>The register-tiled kernel of this vector width's tile height.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel<T, TS, TV, TA>(int kc, ref T ap, int lda, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        if (TS.TileRows == 8) MicroKernel8<T, TS, TV, TA>(kc, ref ap, lda, ref bp, ref c, ldc, ref from, lds);
        else MicroKernel6<T, TS, TV, TA>(kc, ref ap, lda, ref bp, ref c, ldc, ref from, lds);
    }

    /// <summary>Where element (row r, depth q) of a tile's A lies relative to element (0, 0); lda is A's leading dimension.</summary>
    private interface IALayout
    {
        static abstract int Row(int r, int lda);
        static abstract int Depth(int tileRows, int lda);
    }

    /// <summary>A packed sliver: ap[q * tileRows + r].</summary>
    private struct Packed : IALayout
    {
        public static int Row(int r, int lda) => r;
        public static int Depth(int tileRows, int lda) => tileRows;
    }

    /// <summary>A stored [m, k] and read in place: a[r * K + q].</summary>
    private struct RowMajor : IALayout
    {
        public static int Row(int r, int lda) => r * lda;
        public static int Depth(int tileRows, int lda) => 1;
    }

    /// <summary>A stored [k, m] (op(A) = A^T) and read in place: a[q * M + r].</summary>
    private struct ColumnMajor : IALayout
    {
        public static int Row(int r, int lda) => r;
        public static int Depth(int tileRows, int lda) => lda;
    }

    /// <summary>One row of a register tile added into C (two vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<T, TS, TV>(ref T c, ref T from, TV x0, TV x1, int w)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct
    {
        TS.Store(TS.Add(TS.Load(ref from), x0), ref c);
        TS.Store(TS.Add(TS.Load(ref Unsafe.Add(ref from, w)), x1), ref Unsafe.Add(ref c, w));
    }

    /// <summary>C[0..6, 0..2W] += Apack (kc x 6) times Bpack (kc x 2W): twelve accumulators stay in registers across the k loop.</summary>
    /// <remarks>
    /// The accumulators start at zero and C is read only after the k loop, so the FMAs never wait for C to arrive from
    /// memory, and a partial edge tile (computed into zeroed scratch, then added) rounds exactly as a full one.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel6<T, TS, TV, TA>(int kc, ref T ap, int lda, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        int w = TS.Width, step = TA.Depth(6, lda);
        ref T c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref T c3 = ref Unsafe.Add(ref c, 3 * ldc), c4 = ref Unsafe.Add(ref c, 4 * ldc), c5 = ref Unsafe.Add(ref c, 5 * ldc);
        TV x00 = TS.Zero, x01 = TS.Zero;
        TV x10 = TS.Zero, x11 = TS.Zero;
        TV x20 = TS.Zero, x21 = TS.Zero;
        TV x30 = TS.Zero, x31 = TS.Zero;
        TV x40 = TS.Zero, x41 = TS.Zero;
        TV x50 = TS.Zero, x51 = TS.Zero;
        for (int q = 0; q < kc; q++)
        {
            TV b0 = TS.Load(ref bp), b1 = TS.Load(ref Unsafe.Add(ref bp, w));
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, b0, x00); x01 = TS.Fma(a, b1, x01);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(1, lda)));
            x10 = TS.Fma(a, b0, x10); x11 = TS.Fma(a, b1, x11);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(2, lda)));
            x20 = TS.Fma(a, b0, x20); x21 = TS.Fma(a, b1, x21);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(3, lda)));
            x30 = TS.Fma(a, b0, x30); x31 = TS.Fma(a, b1, x31);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(4, lda)));
            x40 = TS.Fma(a, b0, x40); x41 = TS.Fma(a, b1, x41);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(5, lda)));
            x50 = TS.Fma(a, b0, x50); x51 = TS.Fma(a, b1, x51);
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        AddTo<T, TS, TV>(ref c0, ref Unsafe.Add(ref from, 0 * lds), x00, x01, w);
        AddTo<T, TS, TV>(ref c1, ref Unsafe.Add(ref from, 1 * lds), x10, x11, w);
        AddTo<T, TS, TV>(ref c2, ref Unsafe.Add(ref from, 2 * lds), x20, x21, w);
        AddTo<T, TS, TV>(ref c3, ref Unsafe.Add(ref from, 3 * lds), x30, x31, w);
        AddTo<T, TS, TV>(ref c4, ref Unsafe.Add(ref from, 4 * lds), x40, x41, w);
        AddTo<T, TS, TV>(ref c5, ref Unsafe.Add(ref from, 5 * lds), x50, x51, w);
    }

    /// <summary>C[0..8, 0..2W] += Apack (kc x 8) times Bpack (kc x 2W): sixteen accumulators (AVX-512's 32 registers) stay in registers across the k loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel8<T, TS, TV, TA>(int kc, ref T ap, int lda, ref T bp, ref T c, int ldc, ref T from, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> where TS : struct, ISimd<T, TV> where TV : struct where TA : struct, IALayout
    {
        int w = TS.Width, step = TA.Depth(8, lda);
        ref T c0 = ref c, c1 = ref Unsafe.Add(ref c, ldc), c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref T c3 = ref Unsafe.Add(ref c, 3 * ldc), c4 = ref Unsafe.Add(ref c, 4 * ldc), c5 = ref Unsafe.Add(ref c, 5 * ldc);
        ref T c6 = ref Unsafe.Add(ref c, 6 * ldc), c7 = ref Unsafe.Add(ref c, 7 * ldc);
        TV x00 = TS.Zero, x01 = TS.Zero;
        TV x10 = TS.Zero, x11 = TS.Zero;
        TV x20 = TS.Zero, x21 = TS.Zero;
        TV x30 = TS.Zero, x31 = TS.Zero;
        TV x40 = TS.Zero, x41 = TS.Zero;
        TV x50 = TS.Zero, x51 = TS.Zero;
        TV x60 = TS.Zero, x61 = TS.Zero;
        TV x70 = TS.Zero, x71 = TS.Zero;
        for (int q = 0; q < kc; q++)
        {
            TV b0 = TS.Load(ref bp), b1 = TS.Load(ref Unsafe.Add(ref bp, w));
            TV a = TS.Broadcast(ap);
            x00 = TS.Fma(a, b0, x00); x01 = TS.Fma(a, b1, x01);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(1, lda)));
            x10 = TS.Fma(a, b0, x10); x11 = TS.Fma(a, b1, x11);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(2, lda)));
            x20 = TS.Fma(a, b0, x20); x21 = TS.Fma(a, b1, x21);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(3, lda)));
            x30 = TS.Fma(a, b0, x30); x31 = TS.Fma(a, b1, x31);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(4, lda)));
            x40 = TS.Fma(a, b0, x40); x41 = TS.Fma(a, b1, x41);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(5, lda)));
            x50 = TS.Fma(a, b0, x50); x51 = TS.Fma(a, b1, x51);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(6, lda)));
            x60 = TS.Fma(a, b0, x60); x61 = TS.Fma(a, b1, x61);
            a = TS.Broadcast(Unsafe.Add(ref ap, TA.Row(7, lda)));
            x70 = TS.Fma(a, b0, x70); x71 = TS.Fma(a, b1, x71);
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, 2 * w);
        }
        AddTo<T, TS, TV>(ref c0, ref Unsafe.Add(ref from, 0 * lds), x00, x01, w);
        AddTo<T, TS, TV>(ref c1, ref Unsafe.Add(ref from, 1 * lds), x10, x11, w);
        AddTo<T, TS, TV>(ref c2, ref Unsafe.Add(ref from, 2 * lds), x20, x21, w);
        AddTo<T, TS, TV>(ref c3, ref Unsafe.Add(ref from, 3 * lds), x30, x31, w);
        AddTo<T, TS, TV>(ref c4, ref Unsafe.Add(ref from, 4 * lds), x40, x41, w);
        AddTo<T, TS, TV>(ref c5, ref Unsafe.Add(ref from, 5 * lds), x50, x51, w);
        AddTo<T, TS, TV>(ref c6, ref Unsafe.Add(ref from, 6 * lds), x60, x61, w);
        AddTo<T, TS, TV>(ref c7, ref Unsafe.Add(ref from, 7 * lds), x70, x71, w);
    }
}
