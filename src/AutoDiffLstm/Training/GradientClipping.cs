using System.Numerics;
using System.Runtime.InteropServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm.Training;

/// <summary>
/// Gradient clipping against exploding gradients (Pascanu, Mikolov &amp; Bengio 2013, "On the difficulty of training
/// recurrent neural networks", Algorithm 1), in place on the parameters' <see cref="Tensor{T}.Grad"/>. Parameters
/// without a gradient are ignored.
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// The L2 norm of all gradients taken together, ‖g‖ = √(Σ_p Σ_i g_{p,i}²), accumulated in double also for float
    /// gradients. Squares that overflow double while every element is finite are recovered by rescaling, so an
    /// infinite result always means a gradient really holds an infinity (NaN means it holds a NaN).
    /// </summary>
    public static double GlobalNorm<T>(IReadOnlyList<Tensor<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double sum = 0;
        foreach (var p in parameters)
            if (p?.Grad is { } g) sum += SumOfSquares<T>(g.Data);
        if (!double.IsPositiveInfinity(sum)) return Math.Sqrt(sum);
        return ScaledNorm(parameters);
    }

    /// <summary>
    /// If the global norm ‖g‖ exceeds <paramref name="maxNorm"/>, scales every gradient by maxNorm / ‖g‖ so that the
    /// norm becomes maxNorm (Pascanu et al. 2013, Algorithm 1: ĝ ← threshold/‖ĝ‖ · ĝ); a norm at or below the threshold
    /// leaves the gradients untouched (PyTorch instead always multiplies by min(1, maxNorm / (‖g‖ + 1e-6))).
    /// Returns the norm before clipping. A non-finite norm (NaN or ∞) is returned as is and the gradients are left
    /// untouched: scaling would only spread the NaN, and the caller should stop or skip the step.
    /// </summary>
    public static double ClipByGlobalNorm<T>(IReadOnlyList<Tensor<T>> parameters, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!double.IsFinite(maxNorm) || maxNorm <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"ClipByGlobalNorm: maxNorm must be finite and > 0, got {maxNorm}.");
        double norm = GlobalNorm(parameters);
        if (!double.IsFinite(norm) || norm <= maxNorm) return norm;
        T scale = T.CreateTruncating(maxNorm / norm);
        foreach (var p in parameters)
            if (p?.Grad is { } g) TP.Multiply(g.Data, scale, g.Data);
        return norm;
    }

    /// <summary>
    /// Clamps every gradient element into [−clipValue, clipValue] (PyTorch's <c>clip_grad_value_</c>; the element-wise
    /// clipping that Pascanu et al. 2013 contrast with norm clipping). NaN elements stay NaN.
    /// </summary>
    public static void ClipByValue<T>(IReadOnlyList<Tensor<T>> parameters, double clipValue) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue > 0) || double.IsNaN(clipValue))
            throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, $"ClipByValue: clipValue must be > 0, got {clipValue}.");
        T hi = T.CreateTruncating(clipValue), lo = -hi;
        foreach (var p in parameters)
            if (p?.Grad is { } g) TP.Clamp(g.Data, lo, hi, g.Data);
    }

    /// <summary>Σ x_i² in double; float elements are widened before squaring so the sum keeps double precision.</summary>
    internal static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return TP.SumOfSquares(MemoryMarshal.Cast<T, double>(x));
        var f = MemoryMarshal.Cast<T, float>(x);
        int n = f.Length, w = Vector<float>.Count, i = 0;
        Vector<double> acc0 = Vector<double>.Zero, acc1 = Vector<double>.Zero;
        for (; i <= n - w; i += w)
        {
            Vector.Widen(new Vector<float>(f.Slice(i, w)), out var lo, out var hi);
            acc0 += lo * lo;
            acc1 += hi * hi;
        }
        double sum = Vector.Sum(acc0 + acc1);
        for (; i < n; i++) sum += (double)f[i] * f[i];
        return sum;
    }

    // Only reached when Σg² overflowed: either a gradient holds ±∞/NaN (the result says so) or finite values above
    // ~1e154 squared past double's range, which dividing by the largest magnitude first avoids.
    private static double ScaledNorm<T>(IReadOnlyList<Tensor<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double largest = 0;
        foreach (var p in parameters)
        {
            if (p?.Grad is not { } g || g.Size == 0) continue;
            if (Kernels.FirstNonFinite<T>(g.Data) >= 0)
                return g.Data.Any(T.IsNaN) ? double.NaN : double.PositiveInfinity;
            largest = Math.Max(largest, Math.Abs(double.CreateTruncating(TP.MaxMagnitude<T>(g.Data))));
        }
        double sum = 0;
        foreach (var p in parameters)
        {
            if (p?.Grad is not { } g) continue;
            foreach (var v in g.Data) { double s = double.CreateTruncating(v) / largest; sum += s * s; }
        }
        return largest * Math.Sqrt(sum);
    }
}
