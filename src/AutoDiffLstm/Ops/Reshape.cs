using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>The same values under a new shape (no copy; row-major order is kept). One dimension may be -1 (inferred).</summary>
    public Tensor<T> Reshape(params int[] shape)
    {
        var dims = (int[])shape.Clone();
        int infer = Array.IndexOf(dims, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < dims.Length; i++) if (i != infer) known *= dims[i];
            if (known == 0 || Size % known != 0)
                throw new ArgumentException($"Reshape: cannot infer the -1 dimension of {ShapeMath.Format(shape)} from {Size} elements (shape {ShapeText}).");
            dims[infer] = Size / known;
        }
        ShapeMath.Validate("Reshape", dims);
        if (ShapeMath.Size(dims) != Size)
            throw new ArgumentException($"Reshape: shape {ShapeText} ({Size} elements) cannot be viewed as {ShapeMath.Format(shape)} ({ShapeMath.Size(dims)} elements).");
        return ReshapeTo(dims);
    }

    /// <summary>Reshape to dims already validated (same size, no -1), taken as they are (several views may share them).</summary>
    internal Tensor<T> ReshapeTo(int[] dims)
    {
        var y = ViewOf(this, dims);
        Tape.Record(ReshapeRule<T>.Instance, y, this);
        // A recorded view is an intermediate like any other; an unrecorded one shares storage the tape cannot see.
        if (y.IsLeaf) y.KeepStorage();
        return y;
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/>.</summary>
    public Tensor<T> Unsqueeze(int axis) => ReshapeTo(UnsqueezedDims(Dims, ShapeMath.NormalizeAxis("Unsqueeze", axis, Rank + 1)));

    /// <summary><paramref name="dims"/> with a 1 inserted at <paramref name="axis"/> (already normalised).</summary>
    internal static int[] UnsqueezedDims(int[] dims, int axis)
    {
        var result = new int[dims.Length + 1];
        for (int i = 0, j = 0; i < result.Length; i++) result[i] = i == axis ? 1 : dims[j++];
        return result;
    }

    /// <summary>Removes the dimension of size 1 at <paramref name="axis"/>.</summary>
    public Tensor<T> Squeeze(int axis)
    {
        int a = ShapeMath.NormalizeAxis("Squeeze", axis, Rank);
        if (Dims[a] != 1) throw new ArgumentException($"Squeeze: dimension {axis} of shape {ShapeText} is {Dims[a]}, not 1.");
        var dims = new int[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++) if (i != a) dims[j++] = Dims[i];
        return ReshapeTo(dims);
    }
}

internal sealed class ReshapeRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    public TensorBase Replay(in TapeEntry e) => e.InA<T>().Reshape((int[])e.Output.Dims.Clone());

    public static readonly ReshapeRule<T> Instance = new();
    public override string Name => "Reshape";

    // dx += dy (same elements, same order): usually x's gradient simply becomes dy's buffer.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy) => e.InA<T>().GradSink(passThrough: y).Add(dy);

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t) => t.Of<T>(e.A)!.ReshapeTo(y.Dims);

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) => sink.Add(Name, e.InA<T>(), dy.ReshapeTo(e.InA<T>().Dims));
}
