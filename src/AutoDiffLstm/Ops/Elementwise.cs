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

    /// <summary>acc += reduce(g OP other) to acc's shape: the gradient of a broadcast product or quotient (g has shape <paramref name="gDims"/>).</summary>
    public static void AccumulateBroadcast<T, TOp>(T[] g, int[] gDims, Tensor<T> other, Tensor<T> target)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinarySpanOp<T>
    {
        var tmp = BufferPool<T>.Rent(g.Length);
        Kernels.Broadcast<T, TOp>(g, gDims, other.Data, other.Dims, tmp, gDims);
        Kernels.ReduceToShape<T>(tmp, gDims, target.GradBuffer(), target.Dims);
        BufferPool<T>.Return(tmp);
    }
}
