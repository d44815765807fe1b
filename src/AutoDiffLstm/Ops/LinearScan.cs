using System.Numerics;

namespace AutoDiffLstm;

/// <summary>One step of a scan: h = Step(coefficient, h_prev, input), and how the coefficients of a chunk compose.</summary>
internal interface IScanOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The state of an empty chunk (h = 0, or log h = -inf).</summary>
    static abstract T Empty { get; }
    /// <summary>The neutral coefficient (1, or log 1 = 0).</summary>
    static abstract T Identity { get; }
    static abstract T Step(T coef, T prev, T input);
    /// <summary>The coefficient of two consecutive steps: product (or sum of logs).</summary>
    static abstract T Compose(T earlier, T later);
    static abstract bool IsVectorized { get; }
    static abstract Vector<T> Step(Vector<T> coef, Vector<T> prev, Vector<T> input);
    static abstract Vector<T> Compose(Vector<T> earlier, Vector<T> later);
}

/// <summary>h = a h_prev + b (not fused into an FMA, so the vector and scalar lanes round alike).</summary>
internal readonly struct Linear<T> : IScanOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Empty => T.Zero;
    public static T Identity => T.One;
    public static T Step(T coef, T prev, T input) => coef * prev + input;
    public static T Compose(T earlier, T later) => later * earlier;
    public static bool IsVectorized => Vector.IsHardwareAccelerated;
    public static Vector<T> Step(Vector<T> coef, Vector<T> prev, Vector<T> input) => coef * prev + input;
    public static Vector<T> Compose(Vector<T> earlier, Vector<T> later) => later * earlier;
}

/// <summary>log h = logaddexp(log a + log h_prev, log b), scalar lanes only (exp and log per element dominate anyway).</summary>
internal readonly struct LogSpace<T> : IScanOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Empty => T.NegativeInfinity;
    public static T Identity => T.Zero;
    public static T Step(T coef, T prev, T input) => LogAddExp(coef + prev, input);
    public static T Compose(T earlier, T later) => later + earlier;
    public static bool IsVectorized => false;
    public static Vector<T> Step(Vector<T> coef, Vector<T> prev, Vector<T> input) => throw new NotSupportedException();
    public static Vector<T> Compose(Vector<T> earlier, Vector<T> later) => throw new NotSupportedException();

    /// <summary>log(e^x + e^y) = max + log1p(e^-|x - y|), and -inf when both are -inf (no NaN from -inf - -inf).</summary>
    public static T LogAddExp(T x, T y)
    {
        T max = T.Max(x, y);
        if (T.IsNegativeInfinity(max)) return max;
        return max + T.LogP1(T.Exp(T.Min(x, y) - max));
    }
}

/// <summary>
/// The scan kernel, forward and reverse, over [T, N] laid out step by step (N lanes per step), split into fixed chunks
/// of <see cref="ChunkSteps"/> steps: the work split depends only on T, never on the thread count, so results are
/// bit-identical for any <see cref="Parallelism.MaxThreads"/>.
/// </summary>
/// <remarks>
/// Chunked two-pass (the CPU form of Blelloch's scan; Martin and Cundy 2018, "Parallelizing linear recurrent neural nets
/// over sequence length"): pass 1 scans chunk 0 for real and, for every other chunk c but the last, its composed
/// coefficient A_c (the product of its a's) and its end state E_c started from the empty state, all chunks at once; a
/// short sequential pass turns these into the state entering each chunk, s_{c+1} = A_c s_c + E_c; pass 2 rescans every
/// chunk after the first from its entering state, all at once. Within a chunk the values are therefore those of the
/// sequential loop, and only the carries are computed in another order.
/// <para>
/// Rounding: the sequential loop and this kernel both satisfy |h_computed - h_exact| &lt;= 2 (t + 1) u H_t, with u the
/// unit roundoff and H_t the same recurrence over |a|, |b|, |h0| (each step rounds one product and one sum; the combined
/// carry rounds one product and one sum per chunk plus the product of at most <see cref="ChunkSteps"/> coefficients).
/// Their difference is within twice that, which the properties check; for T &lt;= ChunkSteps they are identical.
/// </para>
/// Twice the arithmetic of the sequential loop for a chunk in the middle, so on two cores it is at best even with one core
/// running the plain loop: the form matters where many cores share one long sequence with few lanes.
/// </remarks>
internal static class LinearScan
{
    /// <summary>Steps per chunk: fixed, so results never depend on the number of threads.</summary>
    public const int ChunkSteps = 256;

    /// <summary>Checks [T, ...] coefficients and inputs and a [...] initial state; returns (T, lanes per step).</summary>
    public static (int Steps, int Lanes) CheckShapes<T>(string op, Tensor<T> a, Tensor<T> b, Tensor<T> h0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rank < 1 || !ShapeMath.Equal(a.Dims, b.Dims) || !a.Dims.AsSpan(1).SequenceEqual(h0.Dims))
            throw new ArgumentException(
                $"{op}: coefficients {a.ShapeText}, inputs {b.ShapeText} and initial state {h0.ShapeText}; expected [T, ...] and [T, ...] of equal shape and [...] (the shape of one step).");
        return (a.Dims[0], h0.Size);
    }

    /// <summary>
    /// Forward: y_t = op(a_t, y_{t-1}, b_t) from y_{-1} = init. Reverse (for backward, init null = empty):
    /// y_t = op(a_{t+1}, y_{t+1}, b_t) from y_T = empty, so that y_{T-1} = b_{T-1}.
    /// </summary>
    public static void Run<T, TOp>(T[] a, T[] b, T[]? init, T[] y, int steps, int lanes, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScanOperator<T>
    {
        if (steps == 0 || lanes == 0) return;
        int chunks = (steps + ChunkSteps - 1) / ChunkSteps;
        var scan = new Chunked<T, TOp>(a, b, y, steps, lanes, reverse);
        if (chunks == 1)
        {
            scan.Rescan(0, init);
            return;
        }
        // Pass 1: chunk 0 for real, chunks 1 .. C-2 summarised (the last chunk's summary is never needed).
        var coefs = BufferPool<T>.Rent((chunks - 1) * lanes);
        var ends = BufferPool<T>.Rent((chunks - 1) * lanes);
        ForEach(chunks - 1, c => { if (c == 0) scan.Rescan(0, init); else scan.Summarise(c, coefs, ends); });
        // The carries, one chunk at a time: s_1 = the end of chunk 0, s_{c+1} = A_c s_c + E_c.
        var carries = BufferPool<T>.Rent((chunks - 1) * lanes); // carries[c-1] enters chunk c
        scan.EndOfChunk(0).CopyTo(carries.AsSpan(0, lanes));
        for (int c = 1; c < chunks - 1; c++)
            for (int i = 0; i < lanes; i++)
                carries[c * lanes + i] = TOp.Step(coefs[c * lanes + i], carries[(c - 1) * lanes + i], ends[c * lanes + i]);
        // Pass 2: every later chunk from its carry.
        ForEach(chunks - 1, c => scan.Rescan(c + 1, carries.AsSpan(c * lanes, lanes)));
        BufferPool<T>.Return(coefs);
        BufferPool<T>.Return(ends);
        BufferPool<T>.Return(carries);
    }

    /// <summary>Runs body(0..n-1) over the available threads; part p takes items p, p + parts, ... (which thread runs which never changes a value).</summary>
    private static void ForEach(int n, Action<int> body)
    {
        int parts = Math.Min(Parallelism.MaxThreads, n);
        if (parts <= 1)
        {
            for (int i = 0; i < n; i++) body(i);
            return;
        }
        WorkerTeam.Run(parts, p => { for (int i = p; i < n; i += parts) body(i); });
    }

    /// <summary>The arrays of one scan and its chunk arithmetic. Processing order k = 0..T-1 maps to time t = k, or T-1-k in reverse.</summary>
    private readonly struct Chunked<T, TOp>(T[] a, T[] b, T[] y, int steps, int lanes, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScanOperator<T>
    {
        private int Time(int k) => reverse ? steps - 1 - k : k;
        // The coefficient applied at processing step k: a_t forward, a_{t+1} in reverse.
        private int CoefTime(int k) => reverse ? steps - k : k;

        public ReadOnlySpan<T> EndOfChunk(int c) => y.AsSpan(Time(Math.Min(steps, (c + 1) * ChunkSteps) - 1) * lanes, lanes);

        /// <summary>Scans chunk c into y from the state entering it (null: the empty state, so the first step is just b).</summary>
        public void Rescan(int c, ReadOnlySpan<T> entering)
        {
            int k0 = c * ChunkSteps, k1 = Math.Min(steps, k0 + ChunkSteps);
            for (int k = k0; k < k1; k++)
            {
                var dst = y.AsSpan(Time(k) * lanes, lanes);
                var input = b.AsSpan(Time(k) * lanes, lanes);
                ReadOnlySpan<T> prev = k == k0 ? entering : y.AsSpan(Time(k - 1) * lanes, lanes);
                if (prev.IsEmpty) { input.CopyTo(dst); continue; } // op(coef, empty, b) = b exactly
                StepRow(a.AsSpan(CoefTime(k) * lanes, lanes), prev, input, dst);
            }
        }

        /// <summary>Chunk c's composed coefficient and end state from the empty state, into row c of the two buffers.</summary>
        public void Summarise(int c, T[] coefs, T[] ends)
        {
            int k0 = c * ChunkSteps, k1 = Math.Min(steps, k0 + ChunkSteps);
            var coef = coefs.AsSpan(c * lanes, lanes);
            var end = ends.AsSpan(c * lanes, lanes);
            a.AsSpan(CoefTime(k0) * lanes, lanes).CopyTo(coef);
            b.AsSpan(Time(k0) * lanes, lanes).CopyTo(end);
            for (int k = k0 + 1; k < k1; k++)
            {
                var ak = a.AsSpan(CoefTime(k) * lanes, lanes);
                StepRow(ak, end, b.AsSpan(Time(k) * lanes, lanes), end);
                ComposeRow(coef, ak);
            }
        }

        private static void StepRow(ReadOnlySpan<T> coef, ReadOnlySpan<T> prev, ReadOnlySpan<T> input, Span<T> dst)
        {
            int i = 0;
            if (TOp.IsVectorized)
                for (int w = Vector<T>.Count; i <= dst.Length - w; i += w)
                    TOp.Step(new Vector<T>(coef[i..]), new Vector<T>(prev[i..]), new Vector<T>(input[i..])).CopyTo(dst[i..]);
            for (; i < dst.Length; i++) dst[i] = TOp.Step(coef[i], prev[i], input[i]);
        }

        private static void ComposeRow(Span<T> acc, ReadOnlySpan<T> later)
        {
            int i = 0;
            if (TOp.IsVectorized)
                for (int w = Vector<T>.Count; i <= acc.Length - w; i += w)
                    TOp.Compose(new Vector<T>(acc[i..]), new Vector<T>(later[i..])).CopyTo(acc[i..]);
            for (; i < acc.Length; i++) acc[i] = TOp.Compose(acc[i], later[i]);
        }
    }
}
