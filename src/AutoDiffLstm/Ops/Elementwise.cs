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
        Kernels.ReduceToShape<T>(tmp, gDims, target.GradSink().Zeroed(), target.Dims);
        BufferPool<T>.Return(tmp);
    }
}

public sealed partial class Tensor<T>
{
    /// <summary>
    /// This tensor summed over the dimensions along which a value of shape <paramref name="dims"/> was broadcast to it,
    /// with recorded operations: the adjoint of broadcasting, which the differentiable rules of broadcasting
    /// primitives use.
    /// </summary>
    internal Tensor<T> SumTo(int[] dims)
    {
        if (ShapeMath.Equal(Dims, dims)) return this;
        var t = this;
        for (int lead = Rank - dims.Length; lead > 0; lead--) t = t.Sum(0);
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] == 1 && t.Dims[i] != 1) t = t.Sum(i, keepDim: true);
        return ShapeMath.Equal(t.Dims, dims) ? t : t.ReshapeTo((int[])dims.Clone());
    }

    /// <summary>This tensor broadcast to <paramref name="dims"/> with a recorded Add of zeros (the adjoint of <see cref="SumTo"/>).</summary>
    internal Tensor<T> ExpandTo(int[] dims) => ShapeMath.Equal(Dims, dims) ? this : this + Tensor.Zeros<T>(dims);
}
