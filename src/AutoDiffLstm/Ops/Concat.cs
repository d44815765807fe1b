using System.Numerics;

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
        // The tape keeps the list of inputs; a caller's array could change after the call.
        return ConcatCore(ax, dims, (Tensor<T>[])parts.Clone());
    }

    /// <summary>
    /// Copies each part into its block of a tensor of shape <paramref name="dims"/>, seen as [outer, dims[ax], inner]: part
    /// p fills size(p) / outer consecutive elements of every outer row. That covers Concat (p has the axis) and Stack (p
    /// lacks it and fills one index of the new axis), so both are one primitive with one rule.
    /// </summary>
    private static Tensor<T> ConcatCore<T>(int ax, int[] dims, Tensor<T>[] parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Tensor<T>.Uninitialized(dims);
        var (outer, n, inner) = ShapeMath.AroundAxis(dims, ax);
        if (outer > 0)
            for (int i = 0, offset = 0; i < parts.Length; offset += parts[i].Size / outer, i++)
            {
                int block = parts[i].Size / outer;
                for (int o = 0; o < outer; o++)
                    parts[i].Data.AsSpan(o * block, block).CopyTo(y.Data.AsSpan(o * n * inner + offset, block));
            }
        Tape.Record(ConcatRule<T>.Instance, y, null, aux: parts, i0: ax); // Aux: parts, I0: axis (ConcatRule.Parts/Axis)
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
        var dims = Tensor<T>.UnsqueezedDims(parts[0].Dims, ax);
        dims[ax] = parts.Length;
        return ConcatCore(ax, dims, (Tensor<T>[])parts.Clone());
    }
}

internal sealed class ConcatRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The concatenated (or stacked) parts, in order (slot Aux).</summary>
    private static TensorBase[] Parts(in TapeEntry e) => (TensorBase[])e.Aux!;
    /// <summary>The axis joined along (slot I0).</summary>
    private static int Axis(in TapeEntry e) => e.I0;

    // Stack adds the axis (the output has one dimension more than a part); Concat joins along it.
    public TensorBase Replay(in TapeEntry e)
    {
        var parts = Array.ConvertAll(Parts(e), p => (Tensor<T>)p);
        return e.Output.Rank > parts[0].Rank ? Tensor.Stack(Axis(e), parts) : Tensor.Concat(Axis(e), parts);
    }

    public static readonly ConcatRule<T> Instance = new();
    public override string Name => "Concat";

    // each part's gradient is its own block of dy
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var parts = Parts(e);
        int ax = Axis(e), total = y.Dims[ax];
        var (outer, _, inner) = ShapeMath.AroundAxis(y.Dims, ax);
        if (outer == 0) return; // every part is empty
        int offset = 0;
        foreach (Tensor<T> p in parts)
        {
            int block = p.Size / outer; // as in ConcatCore
            if (p.RequiresGrad)
            {
                var g = p.GradSink();
                for (int o = 0; o < outer; o++)
                    Kernels.CopyOrAdd(dy.Slice(o * total * inner + offset, block), g.Span.Slice(o * block, block), g.Overwrite);
            }
            offset += block;
        }
    }

    // The tangents joined the same way (zeros for parts without one; Stack's parts lack the axis).
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var parts = Parts(e);
        int ax = Axis(e);
        var joined = new Tensor<T>[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = (Tensor<T>)parts[i];
            var tp = t.Of<T>(p) ?? Tensor.Zeros<T>(p.Dims);
            joined[i] = p.Rank == y.Rank ? tp : tp.ReshapeTo(Tensor<T>.UnsqueezedDims(p.Dims, ax));
        }
        return Tensor.Concat(ax, joined);
    }

    // each part's cotangent is its own slice of dy
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var parts = Parts(e);
        int ax = Axis(e), offset = 0;
        foreach (Tensor<T> p in parts)
        {
            int length = p.Rank == y.Rank ? p.Dims[ax] : 1;
            if (p.RequiresGrad) sink.Add(Name, p, dy.Narrow(ax, offset, length).ReshapeTo(p.Dims));
            offset += length;
        }
    }
}
