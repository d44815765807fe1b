using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

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
        var y = new Tensor<T>(dims, Data);
        Tape.Record(ReshapeRule<T>.Instance, y, this);
        return y;
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/>.</summary>
    public Tensor<T> Unsqueeze(int axis)
    {
        int a = ShapeMath.NormalizeAxis("Unsqueeze", axis, Rank + 1);
        var dims = Dims.ToList();
        dims.Insert(a, 1);
        return Reshape([.. dims]);
    }

    /// <summary>Removes the dimension of size 1 at <paramref name="axis"/>.</summary>
    public Tensor<T> Squeeze(int axis)
    {
        int a = ShapeMath.NormalizeAxis("Squeeze", axis, Rank);
        if (Dims[a] != 1) throw new ArgumentException($"Squeeze: dimension {axis} of shape {ShapeText} is {Dims[a]}, not 1.");
        var dims = Dims.ToList();
        dims.RemoveAt(a);
        return Reshape([.. dims]);
    }
}

internal sealed class ReshapeRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ReshapeRule<T> Instance = new();
    public override string Name => "Reshape";

    // dx += dy (same elements, same order)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var g = e.InA<T>().GradBuffer();
        TP.Add(g, dy, g);
    }
}
