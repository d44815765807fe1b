using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public static partial class Tensor
{
    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must agree.</summary>
    public static Tensor<T> Concat<T>(int axis, params Tensor<T>[] parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parts.Length == 0) throw new ArgumentException("Concat: needs at least one tensor.");
        var first = parts[0];
        int ax = ShapeMath.NormalizeAxis("Concat", axis, first.Rank);
        int total = 0;
        foreach (var p in parts)
        {
            bool fits = p.Rank == first.Rank;
            for (int i = 0; fits && i < p.Rank; i++) fits = i == ax || p.Dims[i] == first.Dims[i];
            if (!fits)
                throw new ArgumentException($"Concat: shapes {string.Join(", ", parts.Select(q => q.ShapeText))} do not agree outside axis {axis}.");
            total += p.Dims[ax];
        }
        var dims = (int[])first.Dims.Clone();
        dims[ax] = total;
        var y = Tensor<T>.Uninitialized(dims);
        var (outer, _, inner) = ShapeMath.AroundAxis(dims, ax);
        int offset = 0;
        foreach (var p in parts)
        {
            int block = p.Dims[ax] * inner;
            for (int o = 0; o < outer; o++)
                p.Data.AsSpan(o * block, block).CopyTo(y.Data.AsSpan(o * total * inner + offset, block));
            offset += block;
        }
        Tape.Record(ConcatRule<T>.Instance, y, null, aux: parts.Clone(), i0: ax);
        return y;
    }

    /// <summary>Stacks equally shaped tensors along a new dimension <paramref name="axis"/>.</summary>
    public static Tensor<T> Stack<T>(int axis, params Tensor<T>[] parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parts.Length == 0) throw new ArgumentException("Stack: needs at least one tensor.");
        foreach (var p in parts)
            if (!ShapeMath.Equal(p.Dims, parts[0].Dims))
                throw new ArgumentException($"Stack: shapes {string.Join(", ", parts.Select(q => q.ShapeText))} differ; all must be equal.");
        return Concat(axis, parts.Select(p => p.Unsqueeze(axis)).ToArray());
    }
}

internal sealed class ConcatRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ConcatRule<T> Instance = new();
    public override string Name => "Concat";

    // each part's gradient is its own block of dy
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var parts = (TensorBase[])e.Aux!;
        int ax = e.I0, total = y.Dims[ax];
        var (outer, _, inner) = ShapeMath.AroundAxis(y.Dims, ax);
        int offset = 0;
        foreach (Tensor<T> p in parts)
        {
            int block = p.Dims[ax] * inner;
            if (p.RequiresGrad)
            {
                var g = p.GradBuffer();
                for (int o = 0; o < outer; o++)
                    TP.Add(g.Slice(o * block, block), dy.Slice(o * total * inner + offset, block), g.Slice(o * block, block));
            }
            offset += block;
        }
    }
}
