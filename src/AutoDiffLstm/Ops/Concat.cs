using System.Numerics;

namespace AutoDiffLstm;

public static partial class Tensor
{
    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must agree.</summary>
    public static Tensor<T> Concat<T>(int axis, params Tensor<T>[] parts) where T : unmanaged, IFloatingPointIeee754<T> =>
        ConcatCore(axis, parts, partsAreOurs: false);

    /// <param name="partsAreOurs">The array was built by the engine for this call, so the tape may keep it without a copy.</param>
    private static Tensor<T> ConcatCore<T>(int axis, Tensor<T>[] parts, bool partsAreOurs) where T : unmanaged, IFloatingPointIeee754<T>
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
        // The tape keeps the list of inputs; a caller's array could change after the call.
        Tape.Record(ConcatRule<T>.Instance, y, null, aux: partsAreOurs ? parts : parts.Clone(), i0: ax);
        return y;
    }

    /// <summary>Stacks equally shaped tensors along a new dimension <paramref name="axis"/>.</summary>
    public static Tensor<T> Stack<T>(int axis, params Tensor<T>[] parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parts.Length == 0) throw new ArgumentException("Stack: needs at least one tensor.");
        foreach (var p in parts)
            if (!ShapeMath.Equal(p.Dims, parts[0].Dims))
                throw new ArgumentException($"Stack: shapes {string.Join(", ", parts.Select(q => q.ShapeText))} differ; all must be equal.");
        int ax = ShapeMath.NormalizeAxis("Stack", axis, parts[0].Rank + 1);
        var dims = Tensor<T>.UnsqueezedDims(parts[0].Dims, ax); // equal shapes: one dims array serves every part
        var unsqueezed = new Tensor<T>[parts.Length];
        for (int i = 0; i < parts.Length; i++) unsqueezed[i] = parts[i].ReshapeTo(dims);
        return ConcatCore(ax, unsqueezed, partsAreOurs: true);
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
                var g = p.GradSink();
                for (int o = 0; o < outer; o++)
                    Kernels.CopyOrAdd(dy.Slice(o * total * inner + offset, block), g.Span.Slice(o * block, block), g.Overwrite);
            }
            offset += block;
        }
    }
}
