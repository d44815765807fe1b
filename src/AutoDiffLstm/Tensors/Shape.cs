namespace AutoDiffLstm;

/// <summary>Shape arithmetic shared by tensors and kernels: sizes, formatting and NumPy broadcasting.</summary>
internal static class ShapeMath
{
    public static int Size(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Format(shape)} has {n} elements; at most {int.MaxValue} are supported.");
        return (int)n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static void Validate(string op, ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"{op}: shape {Format(shape)} has a negative dimension; every dimension must be >= 0.");
    }

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1.</summary>
    public static int[] Broadcast(string op, int[] a, int[] b)
    {
        if (Equal(a, b)) return a;
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = Dim(a, i, rank), db = Dim(b, i, rank);
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException(
                    $"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together " +
                    $"(dimension {i} of the aligned shapes is {da} vs {db}; each pair must be equal or one of them 1).");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Dimension <paramref name="i"/> of <paramref name="shape"/> right-aligned to <paramref name="rank"/> (missing leading dims are 1).</summary>
    public static int Dim(int[] shape, int i, int rank)
    {
        int j = i - (rank - shape.Length);
        return j < 0 ? 1 : shape[j];
    }

    /// <summary>Row-major strides of <paramref name="shape"/> aligned to the rank of <paramref name="outShape"/>, with 0 where the dimension broadcasts.</summary>
    public static int[] BroadcastStrides(int[] shape, int[] outShape)
    {
        int rank = outShape.Length;
        var strides = new int[rank];
        int s = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int d = Dim(shape, i, rank);
            strides[i] = d == 1 && outShape[i] != 1 ? 0 : s;
            s *= d;
        }
        return strides;
    }

    public static int NormalizeAxis(string op, int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: axis {axis} is out of range for a tensor of rank {rank} (expected {-rank}..{rank - 1}).");
        return a;
    }

    /// <summary>Views a shape as [outer, n, inner] around <paramref name="axis"/>.</summary>
    public static (int Outer, int N, int Inner) AroundAxis(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }
}
