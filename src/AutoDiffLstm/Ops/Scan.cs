using System.Numerics;

namespace AutoDiffLstm;

public static partial class Tensor
{
    /// <summary>
    /// The linear recurrence over the leading (time) axis, elementwise in the others:
    /// <code>h_t = a_t * h_{t-1} + b_t,   t = 0 .. T-1,   h_{-1} = h0</code>
    /// with <paramref name="a"/>, <paramref name="b"/> of shape [T, ...] and <paramref name="h0"/> of shape [...]; the
    /// result [T, ...] holds h_0 .. h_{T-1}. It is what <c>jax.lax.associative_scan</c> computes for the operator
    /// (a1, b1) o (a2, b2) = (a2 a1, a2 b1 + b2), and the training form of the cells that are linear in their state
    /// (minGRU, minLSTM, LRU). A padded step that must keep the state takes a_t = 1, b_t = 0.
    /// </summary>
    /// <remarks>
    /// The work is split over fixed chunks of <see cref="LinearScan.ChunkSteps"/> steps (see <see cref="LinearScan"/>), so
    /// the result is the same bit for bit whatever <see cref="Parallelism.MaxThreads"/> is; up to one chunk it is the
    /// sequential loop itself. Backward is a reverse scan of the same kind; forward mode is a scan with the same
    /// coefficients, and both are recorded as scans, so derivatives of any order pass through.
    /// </remarks>
    public static Tensor<T> Scan<T>(Tensor<T> a, Tensor<T> b, Tensor<T> h0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (steps, lanes) = LinearScan.CheckShapes("Scan", a, b, h0);
        var y = Tensor<T>.Uninitialized(a.Dims);
        LinearScan.Run<T, Linear<T>>(a.Data, b.Data, h0.Data, y.Data, steps, lanes, reverse: false);
        Tape.Record(ScanRule<T>.Instance, y, a, b, h0);
        return y;
    }

    /// <summary>
    /// The same recurrence in log space, for positive coefficients and inputs (minGRU's and minLSTM's stable form,
    /// Feng et al. 2024, appendix B.3): with logA = log a, logB = log b and logH0 = log h0,
    /// <code>log h_t = logaddexp(logA_t + log h_{t-1}, logB_t)</code>
    /// returns log h [T, ...]. No product of many gates underflows: a sequence of gates 0.01 over 1,000 steps has the
    /// coefficient 1e-2000, out of double's range, but its log -4605 is not. -inf inputs (a zero coefficient or input) are
    /// allowed.
    /// </summary>
    /// <remarks>
    /// Its derivatives follow from the definition: with the shares alpha_t = exp(logA_t + log h_{t-1} - log h_t) and
    /// beta_t = exp(logB_t - log h_t) (alpha + beta = 1), d log h_t = alpha_t (d logA_t + d log h_{t-1}) + beta_t d logB_t,
    /// a linear scan with coefficients alpha. Forward mode and the differentiable backward pass compute the shares with
    /// recorded operations and need every h_t &gt; 0 (log h_t finite); the first-order backward pass does not.
    /// </remarks>
    public static Tensor<T> LogScan<T>(Tensor<T> logA, Tensor<T> logB, Tensor<T> logH0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (steps, lanes) = LinearScan.CheckShapes("LogScan", logA, logB, logH0);
        var y = Tensor<T>.Uninitialized(logA.Dims);
        LinearScan.Run<T, LogSpace<T>>(logA.Data, logB.Data, logH0.Data, y.Data, steps, lanes, reverse: false);
        Tape.Record(LogScanRule<T>.Instance, y, logA, logB, logH0);
        return y;
    }

    /// <summary>
    /// The transpose of <see cref="Scan{T}"/> in its inputs: for dL/dh = <paramref name="dy"/>, the g with
    /// <code>g_t = a_{t+1} g_{t+1} + dy_t,   g_{T-1} = dy_{T-1}</code>
    /// (a reverse scan; a_0 is not read), which is dL/db. Recorded as a primitive of its own so that the backward pass of
    /// a scan is itself differentiable.
    /// </summary>
    internal static Tensor<T> ScanTranspose<T>(Tensor<T> a, Tensor<T> dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rank < 1 || !ShapeMath.Equal(a.Dims, dy.Dims))
            throw new ArgumentException($"ScanTranspose: coefficients {a.ShapeText} and cotangents {dy.ShapeText}; expected two [T, ...] tensors of equal shape.");
        var g = Tensor<T>.Uninitialized(a.Dims);
        LinearScan.Run<T, Linear<T>>(a.Data, dy.Data, null, g.Data, a.Dims[0], a.Size / Math.Max(1, a.Dims[0]), reverse: true);
        Tape.Record(ScanTransposeRule<T>.Instance, g, a, dy);
        return g;
    }
}

/// <summary>The time shifts the scans' derivative rules are written with, as recorded operations.</summary>
internal static class ScanSteps
{
    /// <summary>Row t holds v_{t-1}; row 0 holds <paramref name="first"/> (the state before the sequence).</summary>
    public static Tensor<T> Previous<T>(Tensor<T> v, Tensor<T> first) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var head = first.Reshape([1, .. first.Dims]);
        int steps = v.Dims[0];
        return steps == 1 ? head : Tensor.Concat(0, head, v.Narrow(0, 0, steps - 1));
    }

    /// <summary>Row t holds v_{t+1}; the last row is zero.</summary>
    public static Tensor<T> Next<T>(Tensor<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = v.Dims[0];
        var zero = Tensor.Zeros<T>([1, .. v.Dims.AsSpan(1)]);
        return steps == 1 ? zero : Tensor.Concat(0, v.Narrow(0, 1, steps - 1), zero);
    }

    /// <summary>Row 0 of a [T, ...] tensor, shaped as one step.</summary>
    public static Tensor<T> First<T>(Tensor<T> v) where T : unmanaged, IFloatingPointIeee754<T> => v.Narrow(0, 0, 1).Reshape(v.Dims[1..]);

    /// <summary>The zero state of one step of <paramref name="v"/>.</summary>
    public static Tensor<T> ZeroStep<T>(Tensor<T> v) where T : unmanaged, IFloatingPointIeee754<T> => Tensor.Zeros<T>(v.Dims[1..]);

    /// <summary>p + q where either may be null (a zero tangent); null when both are.</summary>
    public static Tensor<T>? Sum<T>(Tensor<T>? p, Tensor<T>? q) where T : unmanaged, IFloatingPointIeee754<T> =>
        p is null ? q : q is null ? p : p + q;
}

internal sealed class ScanRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ScanRule<T> Instance = new();
    public override string Name => "Scan";

    // g_t = dy_t + a_{t+1} g_{t+1} (a reverse scan);  db_t += g_t;  da_t += g_t h_{t-1};  dh0 += a_0 g_0
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b, h0) = (e.InA<T>(), e.InB<T>(), e.InC<T>());
        int lanes = h0.Size, steps = a.Dims[0];
        var g = BufferPool<T>.Rent(y.Size);
        LinearScan.Run<T, Linear<T>>(a.Data, y.GradData!, null, g, steps, lanes, reverse: true);
        if (b.RequiresGrad)
        {
            var sink = b.GradSink();
            Kernels.CopyOrAdd<T>(g, sink.Span, sink.Overwrite);
        }
        if (a.RequiresGrad)
        {
            var da = a.GradSink().Zeroed();
            for (int t = 0; t < steps; t++)
            {
                var prev = t == 0 ? h0.AsSpan() : y.AsSpan().Slice((t - 1) * lanes, lanes);
                var dst = da.Slice(t * lanes, lanes);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g.AsSpan(t * lanes, lanes), prev, dst, dst);
            }
        }
        if (h0.RequiresGrad)
        {
            var dh0 = h0.GradSink().Zeroed();
            for (int i = 0; i < lanes; i++) dh0[i] += a.Data[i] * g[i];
        }
        BufferPool<T>.Return(g);
    }

    // dh_t = a_t dh_{t-1} + (da_t h_{t-1} + db_t), dh_{-1} = dh0: a scan with the same coefficients.
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (a, b, h0) = (e.InA<T>(), e.InB<T>(), e.InC<T>());
        var (ta, tb, th0) = (t.Of<T>(a), t.Of<T>(b), t.Of<T>(h0));
        var input = ScanSteps.Sum(ta is null ? null : ta * ScanSteps.Previous(y, h0), tb);
        if (input is null && th0 is null) return null;
        return Tensor.Scan(a, input ?? Tensor.Zeros<T>(a.Dims), th0 ?? ScanSteps.ZeroStep(a));
    }

    // The backward rule above as recorded operations, its reverse scan recorded as ScanTranspose.
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b, h0) = (e.InA<T>(), e.InB<T>(), e.InC<T>());
        var g = Tensor.ScanTranspose(a, dy);
        if (b.RequiresGrad) sink.Add(Name, b, g);
        if (a.RequiresGrad) sink.Add(Name, a, g * ScanSteps.Previous(y, h0));
        if (h0.RequiresGrad) sink.Add(Name, h0, ScanSteps.First(a) * ScanSteps.First(g));
    }
}

internal sealed class ScanTransposeRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ScanTransposeRule<T> Instance = new();
    public override string Name => "ScanTranspose";

    // The transpose of a reverse scan is a forward scan: u_t = a_t u_{t-1} + w_t (u_{-1} = 0) for w = dL/dg;
    // d dy += u;  da_s += u_{s-1} g_s for s >= 1 (a_s enters g_{s-1} = a_s g_s + dy_{s-1}).
    protected override void Backward(in TapeEntry e, Tensor<T> g, ReadOnlySpan<T> w)
    {
        var (a, dy) = (e.InA<T>(), e.InB<T>());
        int steps = a.Dims[0], lanes = a.Size / Math.Max(1, steps);
        var u = BufferPool<T>.Rent(g.Size);
        LinearScan.Run<T, Linear<T>>(a.Data, g.GradData!, null, u, steps, lanes, reverse: false);
        if (dy.RequiresGrad)
        {
            var sink = dy.GradSink();
            Kernels.CopyOrAdd<T>(u.AsSpan(0, g.Size), sink.Span, sink.Overwrite);
        }
        if (a.RequiresGrad)
        {
            var da = a.GradSink().Zeroed();
            for (int t = 1; t < steps; t++)
            {
                var dst = da.Slice(t * lanes, lanes);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(u.AsSpan((t - 1) * lanes, lanes), g.AsSpan().Slice(t * lanes, lanes), dst, dst);
            }
        }
        BufferPool<T>.Return(u);
    }

    // dg_t = a_{t+1} dg_{t+1} + (da_{t+1} g_{t+1} + d dy_t): the same transposed scan.
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> g, Tangents t)
    {
        var (a, dy) = (e.InA<T>(), e.InB<T>());
        var (ta, tdy) = (t.Of<T>(a), t.Of<T>(dy));
        var input = ScanSteps.Sum(ta is null ? null : ScanSteps.Next(ta * g), tdy);
        return input is null ? null : Tensor.ScanTranspose(a, input);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> g, Tensor<T> w, Cotangents sink)
    {
        var (a, dy) = (e.InA<T>(), e.InB<T>());
        var zero = ScanSteps.ZeroStep(a);
        var u = Tensor.Scan(a, w, zero);
        if (dy.RequiresGrad) sink.Add(Name, dy, u);
        if (a.RequiresGrad) sink.Add(Name, a, ScanSteps.Previous(u, zero) * g);
    }
}

internal sealed class LogScanRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly LogScanRule<T> Instance = new();
    public override string Name => "LogScan";

    // With u_t = logA_t + y_{t-1}: alpha_t = exp(u_t - y_t), beta_t = exp(logB_t - y_t) (the two shares, alpha + beta = 1).
    // g_t = dy_t + alpha_{t+1} g_{t+1};  dlogA_t += alpha_t g_t;  dlogB_t += beta_t g_t;  dlogH0 += alpha_0 g_0
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (logA, logB, logH0) = (e.InA<T>(), e.InB<T>(), e.InC<T>());
        int lanes = logH0.Size, steps = logA.Dims[0];
        var alpha = BufferPool<T>.Rent(y.Size);
        for (int t = 0; t < steps; t++)
        {
            var prev = t == 0 ? logH0.AsSpan() : y.AsSpan().Slice((t - 1) * lanes, lanes);
            for (int i = 0, k = t * lanes; i < lanes; i++, k++) alpha[k] = Share(logA.Data[k] + prev[i], y.Data[k]);
        }
        var g = BufferPool<T>.Rent(y.Size);
        LinearScan.Run<T, Linear<T>>(alpha, y.GradData!, null, g, steps, lanes, reverse: true);
        if (logA.RequiresGrad)
        {
            var d = logA.GradSink().Zeroed();
            for (int k = 0; k < d.Length; k++) d[k] += alpha[k] * g[k];
        }
        if (logB.RequiresGrad)
        {
            var d = logB.GradSink().Zeroed();
            for (int k = 0; k < d.Length; k++) d[k] += Share(logB.Data[k], y.Data[k]) * g[k];
        }
        if (logH0.RequiresGrad)
        {
            var d = logH0.GradSink().Zeroed();
            for (int i = 0; i < lanes; i++) d[i] += alpha[i] * g[i];
        }
        BufferPool<T>.Return(alpha);
        BufferPool<T>.Return(g);
    }

    /// <summary>exp(part - total): d total / d part of total = logaddexp(part, other); 0 for a -inf part (no share).</summary>
    private static T Share(T part, T total) => T.IsNegativeInfinity(part) ? T.Zero : T.Exp(part - total);

    // d y_t = alpha_t d y_{t-1} + (alpha_t d logA_t + beta_t d logB_t), d y_{-1} = d logH0.
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (logA, logB, logH0) = (e.InA<T>(), e.InB<T>(), e.InC<T>());
        var (ta, tb, th0) = (t.Of<T>(logA), t.Of<T>(logB), t.Of<T>(logH0));
        var (alpha, beta) = Shares(logA, logB, logH0, y);
        var input = ScanSteps.Sum(ta is null ? null : alpha * ta, tb is null ? null : beta * tb);
        if (input is null && th0 is null) return null;
        return Tensor.Scan(alpha, input ?? Tensor.Zeros<T>(y.Dims), th0 ?? ScanSteps.ZeroStep(y));
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (logA, logB, logH0) = (e.InA<T>(), e.InB<T>(), e.InC<T>());
        var (alpha, beta) = Shares(logA, logB, logH0, y);
        var g = Tensor.ScanTranspose(alpha, dy);
        if (logA.RequiresGrad) sink.Add(Name, logA, alpha * g);
        if (logB.RequiresGrad) sink.Add(Name, logB, beta * g);
        if (logH0.RequiresGrad) sink.Add(Name, logH0, ScanSteps.First(alpha) * ScanSteps.First(g));
    }

    /// <summary>alpha and beta as recorded operations (so they are differentiable in turn); refuses a zero state, where they are 0/0.</summary>
    private (Tensor<T> Alpha, Tensor<T> Beta) Shares(Tensor<T> logA, Tensor<T> logB, Tensor<T> logH0, Tensor<T> y)
    {
        int at = y.AsSpan().IndexOf(T.NegativeInfinity);
        if (at >= 0)
            throw new NotSupportedException(
                $"{Name}: log h is -inf (h = 0) at step {at / Math.Max(1, logH0.Size)} of {y.ShapeText}; forward mode and second-order derivatives of LogScan need every h_t > 0, where the shares exp(log a + log h_prev - log h) are defined.");
        return ((logA + ScanSteps.Previous(y, logH0) - y).Exp(), (logB - y).Exp());
    }
}
