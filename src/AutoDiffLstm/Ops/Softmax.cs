using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Softmax along <paramref name="axis"/>: exp(x - max) / sum(exp(x - max)), stable for any magnitude.</summary>
    public Tensor<T> Softmax(int axis = -1)
    {
        int ax = ShapeMath.NormalizeAxis("Softmax", axis, Rank);
        var y = Uninitialized(Dims);
        AlongAxis.Map(Data, y.Data, Dims, ax, static (src, dst) =>
        {
            TP.Subtract(src, TP.Max(src), dst);
            TP.Exp(dst, dst);
            TP.Divide(dst, TP.Sum<T>(dst), dst);
        });
        Tape.Record(SoftmaxRule<T>.Instance, y, this, i0: ax); // I0: axis (SoftmaxRule.Axis)
        return y;
    }
}

internal sealed class SoftmaxRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The normalized axis (slot I0).</summary>
    private static int Axis(in TapeEntry e) => e.I0;

    public TensorBase Replay(in TapeEntry e) => e.InA<T>().Softmax(Axis(e));

    public static readonly SoftmaxRule<T> Instance = new();
    public override string Name => "Softmax";

    // dx += y * (dy - sum(dy * y)) along the axis
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var dx = BufferPool<T>.Rent(y.Size);
        AlongAxis.Map2(y.Data, y.GradData!, dx, y.Dims, Axis(e), static (yl, gl, dst) =>
        {
            T dot = TP.Dot(yl, gl);
            TP.Subtract(gl, dot, dst);
            TP.Multiply(dst, yl, dst);
        });
        var g = x.GradSink().Zeroed();
        TP.Add(g, dx, g);
        BufferPool<T>.Return(dx);
    }

    // dy = y * (dx - sum(y * dx)) along the axis
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t) => y * (t.Of<T>(e.A)! - (y * t.Of<T>(e.A)!).Sum(Axis(e), keepDim: true));

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) =>
        sink.Add(Name, e.InA<T>(), y * (dy - (dy * y).Sum(Axis(e), keepDim: true)));
}
