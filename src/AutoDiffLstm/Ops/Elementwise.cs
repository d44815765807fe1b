using System.Numerics;

namespace AutoDiffLstm;

/// <summary>Forward helpers shared by the elementwise primitives.</summary>
internal static class Elementwise
{
    /// <summary>y = a OP b with broadcasting; the error names the operation and both shapes.</summary>
    public static Tensor<T> Binary<T, TOp>(string op, Tensor<T> a, Tensor<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinarySpanOp<T>
    {
        var shape = ShapeMath.Broadcast(op, a.Dims, b.Dims);
        var y = Tensor<T>.Uninitialized(shape);
        Kernels.Broadcast<T, TOp>(a.Data, a.Dims, b.Data, b.Dims, y.Data, y.Dims);
        return y;
    }

    /// <summary>acc += reduce(g OP other) to acc's shape: the gradient of a broadcast product or quotient.</summary>
    public static void AccumulateBroadcast<T, TOp>(Tensor<T> g, Tensor<T> other, Tensor<T> target)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinarySpanOp<T>
    {
        var tmp = Tensor<T>.Uninitialized(g.Dims);
        Kernels.Broadcast<T, TOp>(g.Data, g.Dims, other.Data, other.Dims, tmp.Data, tmp.Dims);
        Kernels.ReduceToShape<T>(tmp.Data, tmp.Dims, target.GradBuffer(), target.Dims);
    }
}
