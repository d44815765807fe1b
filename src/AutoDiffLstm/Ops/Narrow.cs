using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elements [start, start + length) along <paramref name="axis"/> (a copy).</summary>
    public Tensor<T> Narrow(int axis, int start, int length)
    {
        int ax = ShapeMath.NormalizeAxis("Narrow", axis, Rank);
        if (start < 0 || length < 0 || start + length > Dims[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: range [{start}, {start + length}) is outside dimension {axis} of shape {ShapeText} (size {Dims[ax]}).");
        return NarrowCore(ax, start, length, WithDim(ax, length));
    }

    /// <summary>
    /// Narrow after validation. <paramref name="dims"/> is the output shape (an array several outputs may share): this
    /// shape with dims[ax] = length, or, for Select, without dimension ax. Either way the output is [outer, length, inner]
    /// in memory, so one rule serves both.
    /// </summary>
    private Tensor<T> NarrowCore(int ax, int start, int length, int[] dims)
    {
        var y = Uninitialized(dims);
        var (outer, n, inner) = ShapeMath.AroundAxis(Dims, ax);
        int block = length * inner;
        for (int o = 0; o < outer; o++)
            Data.AsSpan(o * n * inner + start * inner, block).CopyTo(y.Data.AsSpan(o * block, block));
        Tape.Record(NarrowRule<T>.Instance, y, this, i0: ax, i1: start); // I0: axis, I1: start (NarrowRule.Axis/Start)
        return y;
    }

    /// <summary>A copy of the dims with dimension <paramref name="ax"/> set to <paramref name="size"/>.</summary>
    private int[] WithDim(int ax, int size)
    {
        var dims = (int[])Dims.Clone();
        dims[ax] = size;
        return dims;
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="axis"/>, with that dimension removed (x[t] on a [T, B, I] sequence).</summary>
    public Tensor<T> Select(int axis, int index)
    {
        int ax = ShapeMath.NormalizeAxis("Select", axis, Rank);
        if ((uint)index >= (uint)Dims[ax])
            throw new ArgumentOutOfRangeException(nameof(index), $"Select: index {index} is outside dimension {axis} of shape {ShapeText} (size {Dims[ax]}).");
        return NarrowCore(ax, index, 1, [.. Dims[..ax], .. Dims[(ax + 1)..]]);
    }

    /// <summary>Splits along <paramref name="axis"/> into pieces of the given sizes (which must add up to the dimension).</summary>
    public Tensor<T>[] Split(int axis, params int[] sizes)
    {
        int ax = ShapeMath.NormalizeAxis("Split", axis, Rank);
        long total = 0;
        bool negative = false;
        foreach (int s in sizes) { total += s; negative |= s < 0; }
        if (total != Dims[ax] || negative)
            throw new ArgumentException($"Split: sizes {ShapeMath.Format(sizes)} must be non-negative and add up to dimension {axis} of shape {ShapeText} ({Dims[ax]}).");
        var parts = new Tensor<T>[sizes.Length];
        int[]? dims = null; // consecutive parts of equal size share their dims array
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++)
        {
            if (dims is null || dims[ax] != sizes[i]) dims = WithDim(ax, sizes[i]);
            parts[i] = NarrowCore(ax, start, sizes[i], dims);
        }
        return parts;
    }

    /// <summary>Splits along <paramref name="axis"/> into <paramref name="chunks"/> equal parts (the four LSTM gates come from one chunk).</summary>
    public Tensor<T>[] Chunk(int chunks, int axis = -1)
    {
        int ax = ShapeMath.NormalizeAxis("Chunk", axis, Rank);
        if (chunks <= 0 || Dims[ax] % chunks != 0)
            throw new ArgumentException($"Chunk: dimension {axis} of shape {ShapeText} ({Dims[ax]}) cannot be split into {chunks} equal parts.");
        int size = Dims[ax] / chunks;
        var dims = WithDim(ax, size);
        var parts = new Tensor<T>[chunks];
        for (int i = 0; i < chunks; i++) parts[i] = NarrowCore(ax, i * size, size, dims);
        return parts;
    }
}

internal sealed class NarrowRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The axis narrowed (slot I0).</summary>
    private static int Axis(in TapeEntry e) => e.I0;
    /// <summary>The first index kept along the axis (slot I1).</summary>
    private static int Start(in TapeEntry e) => e.I1;

    // Select drops the axis (the output has one dimension less); Narrow keeps it.
    public TensorBase Replay(in TapeEntry e) => e.Output.Rank < e.A!.Rank
        ? e.InA<T>().Select(Axis(e), Start(e))
        : e.InA<T>().Narrow(Axis(e), Start(e), e.Output.Dims[Axis(e)]);

    public static readonly NarrowRule<T> Instance = new();
    public override string Name => "Narrow";

    // dx[.., start:start+len, ..] += dy
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var (outer, n, inner) = ShapeMath.AroundAxis(x.Dims, Axis(e));
        if (outer == 0) return; // x is empty
        int block = y.Size / outer; // length * inner, whether or not y kept the axis (Select drops it)
        var g = x.GradSink();
        for (int o = 0; o < outer; o++)
        {
            var row = g.Span.Slice(o * n * inner, n * inner);
            int start = Start(e) * inner;
            if (g.Overwrite) // fresh: the elements outside the slice get no gradient from this rule
            {
                row[..start].Clear();
                row[(start + block)..].Clear();
            }
            Kernels.CopyOrAdd(dy.Slice(o * block, block), row.Slice(start, block), g.Overwrite);
        }
    }

    // The same slice of the tangent (Select's output lacks the axis: reshape to it).
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var x = e.InA<T>();
        int length = y.Rank == x.Rank ? y.Dims[Axis(e)] : 1;
        return t.Of<T>(x)!.Narrow(Axis(e), Start(e), length).ReshapeTo(y.Dims);
    }

    // dx = dy in the slice along the axis, zeros elsewhere (the sink joins the slices of one tensor once)
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var x = e.InA<T>();
        int ax = Axis(e), start = Start(e), length = y.Rank == x.Rank ? y.Dims[ax] : 1;
        sink.AddSlice(Name, x, ax, start, dy.ReshapeTo(WithAxis(x.Dims, ax, length)));
    }

    private static int[] WithAxis(int[] dims, int ax, int size)
    {
        var r = (int[])dims.Clone();
        r[ax] = size;
        return r;
    }
}
