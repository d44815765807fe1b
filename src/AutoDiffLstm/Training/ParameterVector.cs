using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// A list of parameter tensors seen as one flat vector in double, the space in which conjugate gradient and Lanczos
/// work (their recurrences lose digits in float; the products themselves run in the tensors' own element type).
/// </summary>
internal static class ParameterVector
{
    /// <summary>The total number of elements.</summary>
    public static int Length<T>(IReadOnlyList<Tensor<T>> tensors) where T : unmanaged, IFloatingPointIeee754<T> => tensors.Sum(t => t.Size);

    /// <summary>The tensors' elements, concatenated in order.</summary>
    public static double[] Flatten<T>(IReadOnlyList<Tensor<T>> tensors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var flat = new double[Length(tensors)];
        int at = 0;
        foreach (var t in tensors)
            foreach (var v in t.AsSpan()) flat[at++] = double.CreateTruncating(v);
        return flat;
    }

    /// <summary>New tensors shaped like <paramref name="like"/> holding <paramref name="flat"/>.</summary>
    public static Tensor<T>[] Unflatten<T>(ReadOnlySpan<double> flat, IReadOnlyList<Tensor<T>> like) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Tensor<T>[like.Count];
        int at = 0;
        for (int i = 0; i < like.Count; i++)
        {
            var data = new T[like[i].Size];
            for (int j = 0; j < data.Length; j++) data[j] = T.CreateTruncating(flat[at++]);
            result[i] = new Tensor<T>([.. like[i].Dims], data);
        }
        return result;
    }

    /// <summary>New tensors holding <paramref name="origin"/> + <paramref name="scale"/> · <paramref name="direction"/>.</summary>
    public static Tensor<T>[] Offset<T>(IReadOnlyList<Tensor<T>> origin, ReadOnlySpan<double> direction, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Tensor<T>[origin.Count];
        int at = 0;
        for (int i = 0; i < origin.Count; i++)
        {
            var src = origin[i].AsSpan();
            var data = new T[src.Length];
            for (int j = 0; j < data.Length; j++) data[j] = T.CreateTruncating(double.CreateTruncating(src[j]) + scale * direction[at++]);
            result[i] = new Tensor<T>([.. origin[i].Dims], data);
        }
        return result;
    }

    /// <summary>x · y.</summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i] * y[i];
        return sum;
    }

    /// <summary>y ← y + a x.</summary>
    public static void AddScaled(Span<double> y, double a, ReadOnlySpan<double> x)
    {
        for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }

    /// <summary>||x||_2.</summary>
    public static double Norm(ReadOnlySpan<double> x) => Math.Sqrt(Dot(x, x));
}
