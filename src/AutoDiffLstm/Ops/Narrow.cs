using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elements [start, start + length) along <paramref name="axis"/> (a copy).</summary>
    public Tensor<T> Narrow(int axis, int start, int length)
    {
        int ax = ShapeMath.NormalizeAxis("Narrow", axis, Rank);
        if (start < 0 || length < 0 || start + length > Dims[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: range [{start}, {start + length}) is outside dimension {axis} of shape {ShapeText} (size {Dims[ax]}).");
        var dims = (int[])Dims.Clone();
        dims[ax] = length;
        var y = Uninitialized(dims);
        var (outer, n, inner) = ShapeMath.AroundAxis(Dims, ax);
        int block = length * inner;
        for (int o = 0; o < outer; o++)
            Data.AsSpan(o * n * inner + start * inner, block).CopyTo(y.Data.AsSpan(o * block, block));
        Tape.Record(NarrowRule<T>.Instance, y, this, i0: ax, i1: start);
        return y;
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="axis"/>, with that dimension removed (x[t] on a [T, B, I] sequence).</summary>
    public Tensor<T> Select(int axis, int index) => Narrow(axis, index, 1).Squeeze(axis);

    /// <summary>Splits along <paramref name="axis"/> into pieces of the given sizes (which must add up to the dimension).</summary>
    public Tensor<T>[] Split(int axis, params int[] sizes)
    {
        int ax = ShapeMath.NormalizeAxis("Split", axis, Rank);
        if (sizes.Sum() != Dims[ax] || sizes.Any(s => s < 0))
            throw new ArgumentException($"Split: sizes {ShapeMath.Format(sizes)} must be non-negative and add up to dimension {axis} of shape {ShapeText} ({Dims[ax]}).");
        var parts = new Tensor<T>[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++) parts[i] = Narrow(ax, start, sizes[i]);
        return parts;
    }

    /// <summary>Splits along <paramref name="axis"/> into <paramref name="chunks"/> equal parts (the four LSTM gates come from one chunk).</summary>
    public Tensor<T>[] Chunk(int chunks, int axis = -1)
    {
        int ax = ShapeMath.NormalizeAxis("Chunk", axis, Rank);
        if (chunks <= 0 || Dims[ax] % chunks != 0)
            throw new ArgumentException($"Chunk: dimension {axis} of shape {ShapeText} ({Dims[ax]}) cannot be split into {chunks} equal parts.");
        return Split(ax, Enumerable.Repeat(Dims[ax] / chunks, chunks).ToArray());
    }
}

internal sealed class NarrowRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly NarrowRule<T> Instance = new();
    public override string Name => "Narrow";

    // dx[.., start:start+len, ..] += dy
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var (outer, n, inner) = ShapeMath.AroundAxis(x.Dims, e.I0);
        int block = y.Dims[e.I0] * inner;
        var g = x.GradBuffer();
        for (int o = 0; o < outer; o++)
        {
            var dst = g.Slice(o * n * inner + e.I1 * inner, block);
            TP.Add(dst, dy.Slice(o * block, block), dst);
        }
    }
}
