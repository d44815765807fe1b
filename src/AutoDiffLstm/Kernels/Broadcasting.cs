using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>A binary arithmetic operator over spans, with the scalar-broadcast forms TensorPrimitives provides.</summary>
internal interface IBinarySpanOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Invoke(T x, T y);
    static abstract void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d);
    static abstract void Invoke(ReadOnlySpan<T> x, T y, Span<T> d);
    static abstract void Invoke(T x, ReadOnlySpan<T> y, Span<T> d);
}

internal struct AddSpans<T> : IBinarySpanOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x + y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Add(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Add(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Add(y, x, d);
}

internal struct SubtractSpans<T> : IBinarySpanOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x - y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Subtract(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Subtract(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Subtract(x, y, d);
}

internal struct MultiplySpans<T> : IBinarySpanOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x * y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Multiply(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Multiply(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Multiply(y, x, d);
}

internal struct DivideSpans<T> : IBinarySpanOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x / y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Divide(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Divide(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Divide(x, y, d);
}

internal static partial class Kernels
{
    /// <summary>
    /// y = x OP z with NumPy broadcasting. Equal shapes and scalar operands take one TensorPrimitives call; otherwise
    /// the output is walked one innermost row at a time, each row one span call.
    /// </summary>
    public static void Broadcast<T, TOp>(T[] x, int[] xShape, T[] z, int[] zShape, T[] y, int[] yShape)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinarySpanOp<T>
    {
        if (y.Length == 0) return;
        if (x.Length == y.Length && z.Length == y.Length) { TOp.Invoke(x, z, y); return; }
        if (z.Length == 1 && x.Length == y.Length) { TOp.Invoke(x, z[0], y); return; }
        if (x.Length == 1 && z.Length == y.Length) { TOp.Invoke(x[0], z, y); return; }
        int rank = yShape.Length, n = yShape[rank - 1];
        int[] xs = ShapeMath.BroadcastStrides(xShape, yShape), zs = ShapeMath.BroadcastStrides(zShape, yShape);
        bool xRow = xs[rank - 1] != 0, zRow = zs[rank - 1] != 0;
        var walker = new RowWalker(yShape, xs, zs);
        for (int row = 0, yOff = 0; yOff < y.Length; row++, yOff += n)
        {
            var dst = y.AsSpan(yOff, n);
            int xo = walker.OffsetA, zo = walker.OffsetB;
            if (xRow && zRow) TOp.Invoke(x.AsSpan(xo, n), z.AsSpan(zo, n), dst);
            else if (xRow) TOp.Invoke(x.AsSpan(xo, n), z[zo], dst);
            else if (zRow) TOp.Invoke(x[xo], z.AsSpan(zo, n), dst);
            else dst.Fill(TOp.Invoke(x[xo], z[zo]));
            walker.Next();
        }
    }

    /// <summary>acc += g summed over the dimensions in which <paramref name="accShape"/> was broadcast to <paramref name="gShape"/>: the gradient of broadcasting.</summary>
    public static void ReduceToShape<T>(ReadOnlySpan<T> g, int[] gShape, Span<T> acc, int[] accShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.Length == 0) return;
        if (acc.Length == g.Length) { TP.Add(acc, g, acc); return; }
        if (acc.Length == 1) { acc[0] += TP.Sum(g); return; }
        int rank = gShape.Length, n = gShape[rank - 1];
        int[] s = ShapeMath.BroadcastStrides(accShape, gShape);
        bool row = s[rank - 1] != 0;
        var walker = new RowWalker(gShape, s, s);
        for (int off = 0; off < g.Length; off += n)
        {
            var src = g.Slice(off, n);
            int o = walker.OffsetA;
            if (row) TP.Add(acc.Slice(o, n), src, acc.Slice(o, n));
            else acc[o] += TP.Sum(src);
            walker.Next();
        }
    }

    /// <summary>Walks the rows (all but the last dimension) of a shape, tracking the row offsets of two broadcast operands.</summary>
    private struct RowWalker
    {
        private readonly int[] shape, stridesA, stridesB, index;
        public int OffsetA, OffsetB;

        public RowWalker(int[] shape, int[] stridesA, int[] stridesB)
        {
            this.shape = shape; this.stridesA = stridesA; this.stridesB = stridesB;
            index = new int[Math.Max(0, shape.Length - 1)];
            OffsetA = OffsetB = 0;
        }

        public void Next()
        {
            for (int d = index.Length - 1; d >= 0; d--)
            {
                index[d]++;
                OffsetA += stridesA[d];
                OffsetB += stridesB[d];
                if (index[d] < shape[d]) return;
                OffsetA -= stridesA[d] * shape[d];
                OffsetB -= stridesB[d] * shape[d];
                index[d] = 0;
            }
        }
    }
}

internal static partial class Kernels
{
    /// <summary>dst = src broadcast to <paramref name="dstShape"/> (the forward of broadcasting, the inverse of <see cref="ReduceToShape"/>).</summary>
    public static void Expand<T>(ReadOnlySpan<T> src, int[] srcShape, Span<T> dst, int[] dstShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dst.Length == 0) return;
        if (src.Length == dst.Length) { src.CopyTo(dst); return; }
        if (src.Length == 1) { dst.Fill(src[0]); return; }
        int rank = dstShape.Length, n = dstShape[rank - 1];
        int[] s = ShapeMath.BroadcastStrides(srcShape, dstShape);
        bool row = s[rank - 1] != 0;
        var walker = new RowWalker(dstShape, s, s);
        for (int off = 0; off < dst.Length; off += n)
        {
            if (row) src.Slice(walker.OffsetA, n).CopyTo(dst.Slice(off, n));
            else dst.Slice(off, n).Fill(src[walker.OffsetA]);
            walker.Next();
        }
    }
}
