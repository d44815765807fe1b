using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Mean cross-entropy of logits [N, C] (or [..., C], flattened to rows) against integer class targets (one per row):
    /// mean over rows of logsumexp(x_row) - x_row[target]. Computed through log-sum-exp, so logits of magnitude 1000 are fine.
    /// </summary>
    public Tensor<T> CrossEntropy(int[] targets)
    {
        if (Rank < 1 || Dims[^1] == 0) throw new ArgumentException($"CrossEntropy: logits must have shape [..., C] with C >= 1, got {ShapeText}.");
        int c = Dims[^1], rows = Size / c;
        if (targets.Length != rows)
            throw new ArgumentException($"CrossEntropy: logits {ShapeText} have {rows} rows but {targets.Length} targets were given; expected one target per row.");
        T total = T.Zero;
        for (int r = 0; r < rows; r++)
        {
            int t = targets[r];
            if ((uint)t >= (uint)c) throw new ArgumentOutOfRangeException(nameof(targets), $"CrossEntropy: target {t} at row {r} is outside [0, {c}) for logits {ShapeText}.");
            var row = Data.AsSpan(r * c, c);
            total += LogSumExp(row) - row[t];
        }
        var y = ScalarOutput(rows == 0 ? T.Zero : total / T.CreateChecked(rows));
        Tape.Record(CrossEntropyRule<T>.Instance, y, this, aux: targets.Clone()); // Aux: targets (CrossEntropyRule.Targets)
        return y;
    }
}

internal sealed class CrossEntropyRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The integer class targets (slot Aux).</summary>
    private static int[] Targets(in TapeEntry e) => (int[])e.Aux!;

    public static readonly CrossEntropyRule<T> Instance = new();
    public override string Name => "CrossEntropy";

    // dx[r] += dy / N * (softmax(x[r]) - onehot(target[r]))
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var targets = Targets(e);
        int c = x.Dims[^1], rows = targets.Length;
        T scale = dy[0] / T.CreateChecked(rows);
        var g = x.GradSink().Zeroed();
        var p = BufferPool<T>.Rent(c);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan().Slice(r * c, c);
            TP.Subtract(row, Tensor<T>.LogSumExp(row), p);
            TP.Exp(p, p);
            p[targets[r]] -= T.One;
            var gr = g.Slice(r * c, c);
            TP.MultiplyAdd(p, scale, gr, gr);
        }
        BufferPool<T>.Return(p);
    }

    // dL = sum over rows of (softmax(x_r) - onehot_r) . dx_r / N
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t) =>
        (Residual(e) * t.Of<T>(e.A)!).Sum() * T.CreateChecked(1.0 / Math.Max(1, Targets(e).Length));

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) =>
        sink.Add(Name, e.InA<T>(), Residual(e) * (dy * T.CreateChecked(1.0 / Math.Max(1, Targets(e).Length))));

    /// <summary>softmax(x) - onehot(targets), recorded through x's softmax.</summary>
    private static Tensor<T> Residual(in TapeEntry e)
    {
        var x = e.InA<T>();
        var targets = Targets(e);
        int c = x.Dims[^1];
        var onehot = Tensor.Zeros<T>(x.Dims);
        for (int r = 0; r < targets.Length; r++) onehot.Data[r * c + targets[r]] = T.One;
        return x.Softmax(-1) - onehot;
    }
}
