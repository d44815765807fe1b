using System.Numerics;

namespace AutoDiffLstm;

public static partial class Tensor
{
    /// <summary>
    /// Elementwise select: where mask is non-zero take <paramref name="whenTrue"/>, else <paramref name="whenFalse"/>.
    /// The two branches must have the same shape; the mask broadcasts to it (e.g. a [B, 1] mask of live sequences over
    /// a [B, H] state). The mask receives no gradient.
    /// </summary>
    public static Tensor<T> Where<T>(Tensor<T> mask, Tensor<T> whenTrue, Tensor<T> whenFalse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ShapeMath.Equal(whenTrue.Dims, whenFalse.Dims))
            throw new ArgumentException($"Where: the branches have shapes {whenTrue.ShapeText} and {whenFalse.ShapeText}; they must be equal.");
        var shape = ShapeMath.Broadcast("Where", mask.Dims, whenTrue.Dims);
        if (!ShapeMath.Equal(shape, whenTrue.Dims))
            throw new ArgumentException($"Where: mask {mask.ShapeText} must broadcast to the branches' shape {whenTrue.ShapeText}.");
        var full = new T[whenTrue.Size];
        Kernels.Expand<T>(mask.Data, mask.Dims, full, shape);
        var y = Tensor<T>.Uninitialized(shape);
        for (int i = 0; i < full.Length; i++) y.Data[i] = full[i] != T.Zero ? whenTrue.Data[i] : whenFalse.Data[i];
        Tape.Record(WhereRule<T>.Instance, y, whenTrue, whenFalse, aux: full); // Aux: the broadcast mask (WhereRule.MaskData)
        return y;
    }
}

internal sealed class WhereRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The condition, broadcast to the output's shape, as ones and zeros (slot Aux).</summary>
    private static T[] MaskData(in TapeEntry e) => (T[])e.Aux!;

    // The mask is recorded as values (it receives no gradient), so the replay selects with the traced mask.
    public TensorBase Replay(in TapeEntry e) => Tensor.Where(new Tensor<T>((int[])e.Output.Dims.Clone(), MaskData(e)), e.InA<T>(), e.InB<T>());

    public static readonly WhereRule<T> Instance = new();
    public override string Name => "Where";

    // da += dy where mask, db += dy elsewhere
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        var mask = MaskData(e);
        if (a.RequiresGrad) { var g = a.GradSink().Zeroed(); for (int i = 0; i < g.Length; i++) if (mask[i] != T.Zero) g[i] += dy[i]; }
        if (b.RequiresGrad) { var g = b.GradSink().Zeroed(); for (int i = 0; i < g.Length; i++) if (mask[i] == T.Zero) g[i] += dy[i]; }
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        return Tensor.Where(Mask(e, y), t.Of<T>(a) ?? Tensor.Zeros<T>(a.Dims), t.Of<T>(b) ?? Tensor.Zeros<T>(b.Dims));
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        var mask = Mask(e, y);
        var zeros = Tensor.Zeros<T>(y.Dims);
        if (a.RequiresGrad) sink.Add(Name, a, Tensor.Where(mask, dy, zeros));
        if (b.RequiresGrad) sink.Add(Name, b, Tensor.Where(mask, zeros, dy));
    }

    private static Tensor<T> Mask(in TapeEntry e, Tensor<T> y) => new((int[])y.Dims.Clone(), MaskData(e));
}
