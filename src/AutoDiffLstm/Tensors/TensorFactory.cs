using System.Numerics;

namespace AutoDiffLstm;

/// <summary>Creation of tensors: constants, arrays, ranges and seeded random values.</summary>
public static partial class Tensor
{
    /// <summary>All zeros.</summary>
    public static Tensor<T> Zeros<T>(params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMath.Validate("Zeros", shape);
        return Tensor<T>.ZerosLike((int[])shape.Clone());
    }

    /// <summary>All ones.</summary>
    public static Tensor<T> Ones<T>(params int[] shape) where T : unmanaged, IFloatingPointIeee754<T> => Full(T.One, shape);

    /// <summary>Every element equal to <paramref name="value"/>.</summary>
    public static Tensor<T> Full<T>(T value, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMath.Validate("Full", shape);
        var t = Tensor<T>.Uninitialized((int[])shape.Clone());
        t.Data.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor<T> Scalar<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> => new([], [value]);

    /// <summary>A tensor over a copy of <paramref name="values"/> (row-major); with no shape, a vector.</summary>
    public static Tensor<T> FromArray<T>(T[] values, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] dims = shape.Length == 0 ? [values.Length] : (int[])shape.Clone();
        ShapeMath.Validate("FromArray", dims);
        if (ShapeMath.Size(dims) != values.Length)
            throw new ArgumentException($"FromArray: {values.Length} values cannot fill shape {ShapeMath.Format(dims)} ({ShapeMath.Size(dims)} elements).");
        return new Tensor<T>(dims, (T[])values.Clone());
    }

    /// <summary>A matrix from a 2-D array.</summary>
    public static Tensor<T> FromArray<T>(T[,] values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int r = values.GetLength(0), c = values.GetLength(1);
        var data = new T[r * c];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) data[i * c + j] = values[i, j];
        return new Tensor<T>([r, c], data);
    }

    /// <summary>0, 1, ..., n-1.</summary>
    public static Tensor<T> Arange<T>(int n) where T : unmanaged, IFloatingPointIeee754<T> => Arange(T.Zero, T.CreateChecked(n), T.One);

    /// <summary>start, start+step, ... up to but excluding stop.</summary>
    public static Tensor<T> Arange<T>(T start, T stop, T step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (step == T.Zero || T.IsNaN(step)) throw new ArgumentException($"Arange: step must be non-zero and finite, got {step}.");
        double count = Math.Ceiling(double.CreateChecked((stop - start) / step));
        int n = Math.Max(0, (int)count);
        var t = Tensor<T>.Uninitialized([n]);
        for (int i = 0; i < n; i++) t.Data[i] = start + T.CreateChecked(i) * step;
        return t;
    }

    /// <summary>Independent normal samples with the given mean and standard deviation, from a seeded generator.</summary>
    public static Tensor<T> RandomNormal<T>(Rng rng, int[] shape, double mean = 0, double std = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMath.Validate("RandomNormal", shape);
        var t = Tensor<T>.Uninitialized((int[])shape.Clone());
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] = T.CreateChecked(mean + std * rng.NextNormal());
        return t;
    }

    /// <summary>Independent uniform samples in [low, high), from a seeded generator.</summary>
    public static Tensor<T> RandomUniform<T>(Rng rng, int[] shape, double low = 0, double high = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMath.Validate("RandomUniform", shape);
        if (!(high >= low)) throw new ArgumentException($"RandomUniform: high ({high}) must be >= low ({low}).");
        var t = Tensor<T>.Uninitialized((int[])shape.Clone());
        for (int i = 0; i < t.Data.Length; i++)
        {
            T v = T.CreateChecked(rng.NextDouble(low, high));
            // low + (high - low) * u, and the conversion to float, can round up onto high itself; keep the interval half-open.
            if (high > low && double.CreateChecked(v) >= high) v = T.Max(T.BitDecrement(v), T.CreateChecked(low));
            t.Data[i] = v;
        }
        return t;
    }
}
