using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>log(softmax(x)) along <paramref name="axis"/>, computed as x - max - log(sum(exp(x - max))) so it never overflows.</summary>
    public Tensor<T> LogSoftmax(int axis = -1)
    {
        int ax = ShapeMath.NormalizeAxis("LogSoftmax", axis, Rank);
        var y = Uninitialized(Dims);
        AlongAxis.Map(Data, y.Data, Dims, ax, static (src, dst) =>
        {
            TP.Subtract(src, LogSumExp(src), dst);
        });
        Tape.Record(LogSoftmaxRule<T>.Instance, y, this, i0: ax); // I0: axis (LogSoftmaxRule.Axis)
        return y;
    }

    /// <summary>log(sum(exp(x))) of a line, shifted by its maximum.</summary>
    internal static T LogSumExp(ReadOnlySpan<T> x)
    {
        T max = TP.Max(x);
        if (T.IsInfinity(max)) return max;
        T sum = T.Zero;
        foreach (T v in x) sum += T.Exp(v - max);
        return max + T.Log(sum);
    }
}

internal sealed class LogSoftmaxRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The normalized axis (slot I0).</summary>
    private static int Axis(in TapeEntry e) => e.I0;

    public TensorBase Replay(in TapeEntry e) => e.InA<T>().LogSoftmax(Axis(e));

    public static readonly LogSoftmaxRule<T> Instance = new();
    public override string Name => "LogSoftmax";

    // dx += dy - exp(y) * sum(dy) along the axis
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var dx = BufferPool<T>.Rent(y.Size);
        AlongAxis.Map2(y.Data, y.GradData!, dx, y.Dims, Axis(e), static (yl, gl, dst) =>
        {
            T total = TP.Sum(gl);
            TP.Exp(yl, dst);
            TP.Multiply(dst, -total, dst);
            TP.Add(dst, gl, dst);
        });
        var g = x.GradSink().Zeroed();
        TP.Add(g, dx, g);
        BufferPool<T>.Return(dx);
    }

    // dy = dx - sum(exp(y) * dx) along the axis
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var tx = t.Of<T>(e.A)!;
        return tx - (y.Exp() * tx).Sum(Axis(e), keepDim: true);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) =>
        sink.Add(Name, e.InA<T>(), dy - y.Exp() * dy.Sum(Axis(e), keepDim: true));
}
