using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Embedding lookup: this is a table [V, D]; gathers row ids[i] for every id, giving shape idsShape + [D]
    /// (idsShape defaults to [ids.Length]).
    /// </summary>
    public Tensor<T> Embedding(int[] ids, params int[] idsShape)
    {
        if (Rank != 2) throw new ArgumentException($"Embedding: the table must be [V, D], got {ShapeText}.");
        int[] shape = idsShape.Length == 0 ? [ids.Length] : idsShape;
        if (ShapeMath.Size(shape) != ids.Length)
            throw new ArgumentException($"Embedding: {ids.Length} ids do not fill shape {ShapeMath.Format(shape)}.");
        int v = Dims[0], d = Dims[1];
        var y = Uninitialized([.. shape, d]);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)v) throw new ArgumentOutOfRangeException(nameof(ids), $"Embedding: id {ids[i]} at position {i} is outside [0, {v}) for a table of shape {ShapeText}.");
            Data.AsSpan(ids[i] * d, d).CopyTo(y.Data.AsSpan(i * d, d));
        }
        Tape.Record(EmbeddingRule<T>.Instance, y, this, aux: ids.Clone()); // Aux: ids (EmbeddingRule.Ids)
        return y;
    }
}

internal sealed class EmbeddingRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The looked-up row indices (slot Aux).</summary>
    private static int[] Ids(in TapeEntry e) => (int[])e.Aux!;

    public static readonly EmbeddingRule<T> Instance = new();
    public override string Name => "Embedding";

    // dW[ids[i]] += dy[i]  (repeated ids accumulate)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var w = e.InA<T>();
        var ids = Ids(e);
        int d = w.Dims[1];
        var g = w.GradSink().Zeroed();
        for (int i = 0; i < ids.Length; i++)
        {
            var row = g.Slice(ids[i] * d, d);
            TP.Add(row, dy.Slice(i * d, d), row);
        }
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t) =>
        t.Of<T>(e.A)!.Embedding(Ids(e), y.Dims[..^1]);

    // dW = onehot(ids)^T dy: a product, so that it stays differentiable in dy
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var w = e.InA<T>();
        var ids = Ids(e);
        int v = w.Dims[0], d = w.Dims[1];
        var onehot = Tensor.Zeros<T>(ids.Length, v);
        for (int i = 0; i < ids.Length; i++) onehot.Data[i * v + ids[i]] = T.One;
        sink.Add(Name, w, onehot.MatMul(dy.ReshapeTo([ids.Length, d]), transposeThis: true));
    }
}
