using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Mean squared error mean((this - target)^2) over all elements; the shapes must be equal.</summary>
    public Tensor<T> MeanSquaredError(Tensor<T> target)
    {
        if (!ShapeMath.Equal(Dims, target.Dims))
            throw new ArgumentException($"MeanSquaredError: prediction {ShapeText} and target {target.ShapeText} must have the same shape.");
        var y = ScalarOutput(Size == 0 ? T.Zero : SumOfSquaredDifferences(Data, target.Data) / T.CreateChecked(Size));
        Tape.Record(MeanSquaredErrorRule<T>.Instance, y, this, target);
        return y;
    }

    private static T SumOfSquaredDifferences(T[] a, T[] b)
    {
        var d = BufferPool<T>.Rent(a.Length);
        TP.Subtract(a, b, d);
        T sum = TP.SumOfSquares<T>(d);
        BufferPool<T>.Return(d);
        return sum;
    }
}

internal sealed class MeanSquaredErrorRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly MeanSquaredErrorRule<T> Instance = new();
    public override string Name => "MeanSquaredError";

    // dp += dy * 2 (p - t) / n,  dt -= the same
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (p, t) = (e.InA<T>(), e.InB<T>());
        var r = BufferPool<T>.Rent(p.Size);
        TP.Subtract(p.AsSpan(), t.AsSpan(), r);
        TP.Multiply(r, dy[0] * T.CreateChecked(2.0 / p.Size), r);
        if (p.RequiresGrad) { var g = p.GradSink().Zeroed(); TP.Add(g, r, g); }
        if (t.RequiresGrad) { var g = t.GradSink().Zeroed(); TP.Subtract(g, r, g); }
        BufferPool<T>.Return(r);
    }

    // dL = 2 / n * sum((p - t) * (dp - dt))
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (p, q) = (e.InA<T>(), e.InB<T>());
        var (tp, tq) = (t.Of<T>(p), t.Of<T>(q));
        var dd = tq is null ? tp! : tp is null ? -tq : tp - tq;
        return ((p - q) * dd).Sum() * T.CreateChecked(2.0 / Math.Max(1, p.Size));
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (p, q) = (e.InA<T>(), e.InB<T>());
        var r = (p - q) * (dy * T.CreateChecked(2.0 / Math.Max(1, p.Size)));
        sink.Add(Name, p, r);
        if (q.RequiresGrad) sink.Add(Name, q, -r);
    }
}
