using System.Globalization;
using System.Numerics;
using System.Text;

namespace AutoDiffLstm;

/// <summary>Readable text for notebooks: a header line (type, shape, gradient status) and nested, truncated values.</summary>
internal static class TensorFormatter
{
    private const int EdgeItems = 3;   // values shown at each end of a long dimension
    private const int FullUpTo = 8;    // dimensions this short are shown whole

    public static string Format<T>(Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sb = new StringBuilder();
        sb.Append("Tensor<").Append(t.ElementTypeName).Append("> ").Append(t.ShapeText);
        if (t.RequiresGrad) sb.Append(t.IsLeaf ? " requires_grad" : " grad_fn");
        sb.Append('\n');
        // A debugger or notebook display must not throw: say what happened instead of showing recycled values.
        if (t.IsRecycled) return sb.Append("(values recycled: computed under Tape.ReuseBuffers, and the tape was reset since)").ToString();
        if (t.Rank == 0) sb.Append(Num(t.AsSpan()[0]));
        else Append(sb, t.AsSpan(), t.Dims, 0, 0, 0);
        return sb.ToString();
    }

    private static void Append<T>(StringBuilder sb, ReadOnlySpan<T> data, int[] dims, int dim, int offset, int indent)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dims[dim];
        int stride = 1;
        for (int i = dim + 1; i < dims.Length; i++) stride *= dims[i];
        sb.Append('[');
        bool last = dim == dims.Length - 1;
        for (int i = 0; i < n; i++)
        {
            if (n > FullUpTo && i == EdgeItems)
            {
                sb.Append(last ? "..., " : "...,\n" + new string(' ', indent + 1));
                i = n - EdgeItems - 1;
                continue;
            }
            if (last) sb.Append(Num(data[offset + i]));
            else Append(sb, data, dims, dim + 1, offset + i * stride, indent + 1);
            if (i < n - 1) sb.Append(last ? ", " : ",\n" + new string(' ', indent + 1));
        }
        sb.Append(']');
    }

    private static string Num<T>(T v) where T : unmanaged, IFloatingPointIeee754<T> =>
        double.CreateTruncating(v).ToString("G6", CultureInfo.InvariantCulture);
}
