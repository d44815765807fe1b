using System.Numerics;

namespace AutoDiffLstm;

/// <summary>Applies a function to every line of a tensor along one axis: in place when the axis is innermost, else via gathered scratch lines.</summary>
internal static class AlongAxis
{
    public delegate void LineFn<T>(ReadOnlySpan<T> src, Span<T> dst);
    public delegate void LineFn2<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dst);

    public static void Map<T>(T[] src, T[] dst, int[] dims, int axis, LineFn<T> fn) where T : unmanaged
    {
        var (outer, n, inner) = ShapeMath.AroundAxis(dims, axis);
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) fn(src.AsSpan(o * n, n), dst.AsSpan(o * n, n));
            return;
        }
        var scratch = Scratch<T>.Rent(2 * n);
        try
        {
            var s = scratch.AsSpan(0, n); var d = scratch.AsSpan(n, n);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int b = o * n * inner + i;
                    for (int j = 0; j < n; j++) s[j] = src[b + j * inner];
                    fn(s, d);
                    for (int j = 0; j < n; j++) dst[b + j * inner] = d[j];
                }
        }
        finally { Scratch<T>.Return(scratch); }
    }

    public static void Map2<T>(T[] a, T[] b, T[] dst, int[] dims, int axis, LineFn2<T> fn) where T : unmanaged
    {
        var (outer, n, inner) = ShapeMath.AroundAxis(dims, axis);
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) fn(a.AsSpan(o * n, n), b.AsSpan(o * n, n), dst.AsSpan(o * n, n));
            return;
        }
        var scratch = Scratch<T>.Rent(3 * n);
        try
        {
            var sa = scratch.AsSpan(0, n); var sb = scratch.AsSpan(n, n); var d = scratch.AsSpan(2 * n, n);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int off = o * n * inner + i;
                    for (int j = 0; j < n; j++) { sa[j] = a[off + j * inner]; sb[j] = b[off + j * inner]; }
                    fn(sa, sb, d);
                    for (int j = 0; j < n; j++) dst[off + j * inner] = d[j];
                }
        }
        finally { Scratch<T>.Return(scratch); }
    }
}
