using System.Numerics;
using AutoDiffLstm.Training;

namespace AutoDiffLstm.Diagnostics;

/// <summary>
/// The extreme eigenvalues of a curvature matrix found by <see cref="Lanczos"/>: the largest ones in descending order,
/// and the smallest (negative for a Hessian at a saddle or on a non-convex slope; ≥ 0 for a Gauss-Newton matrix).
/// </summary>
/// <param name="Top">The largest Ritz values, descending (at most the number asked for).</param>
/// <param name="Smallest">The smallest Ritz value.</param>
/// <param name="Products">Matrix-vector products spent (Lanczos steps).</param>
public sealed record CurvatureSpectrum(IReadOnlyList<double> Top, double Smallest, int Products);

/// <summary>
/// Curvature diagnostics of a loss at parameters θ, matrix-free: the top eigenvalues of the Hessian ∇²f(θ) through
/// Hessian-vector products (<see cref="Autograd.Hvp{T}"/>) and of the Gauss-Newton matrix G = Jᵀ H_L J through
/// <see cref="Autograd.GaussNewtonVectorProduct{T}"/>, by Lanczos with full reorthogonalisation. The top Hessian
/// eigenvalue λ_max bounds the stable step size of gradient descent (η &lt; 2 / λ_max; Cohen et al. 2021 "edge of
/// stability"), and the gap between the Hessian's and G's spectra is the part of the curvature that G drops.
/// </summary>
public static class Curvature
{
    /// <summary>The <paramref name="count"/> largest eigenvalues of ∇²f at <paramref name="parameters"/> (and the smallest), from <paramref name="steps"/> Lanczos steps.</summary>
    /// <param name="f">The scalar loss as a function of the parameters.</param>
    /// <param name="parameters">θ; not modified.</param>
    /// <param name="count">How many top eigenvalues to return (≥ 1).</param>
    /// <param name="steps">Lanczos steps (HVPs); 0 picks max(3 count + 10, 20), capped at the parameter count.</param>
    /// <param name="seed">Seed of the start vector.</param>
    public static CurvatureSpectrum TopHessianEigenvalues<T>(Func<Tensor<T>[], Tensor<T>> f, IReadOnlyList<Tensor<T>> parameters, int count = 3, int steps = 0, ulong seed = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f);
        var at = Checked("TopHessianEigenvalues", parameters, count);
        return Spectrum(v => ParameterVector.Flatten(Autograd.Hvp(f, at, ParameterVector.Unflatten(v, at))), at, count, steps, seed);
    }

    /// <summary>The <paramref name="count"/> largest eigenvalues of G = Jᵀ H_L J of <paramref name="model"/> under <paramref name="loss"/> (and the smallest).</summary>
    /// <param name="model">θ ↦ z, the model output the loss scores.</param>
    /// <param name="parameters">θ; not modified.</param>
    /// <param name="loss">The loss of z with its curvature in z.</param>
    /// <param name="count">How many top eigenvalues to return (≥ 1).</param>
    /// <param name="steps">Lanczos steps (products); 0 picks max(3 count + 10, 20), capped at the parameter count.</param>
    /// <param name="seed">Seed of the start vector.</param>
    public static CurvatureSpectrum TopGaussNewtonEigenvalues<T>(Func<Tensor<T>[], Tensor<T>> model, IReadOnlyList<Tensor<T>> parameters, GaussNewtonLoss<T> loss,
        int count = 3, int steps = 0, ulong seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        var at = Checked("TopGaussNewtonEigenvalues", parameters, count);
        return Spectrum(v => ParameterVector.Flatten(Autograd.GaussNewtonVectorProduct(model, at, loss, ParameterVector.Unflatten(v, at))), at, count, steps, seed);
    }

    private static Tensor<T>[] Checked<T>(string op, IReadOnlyList<Tensor<T>> parameters, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException($"Curvature.{op}: no parameters were given.", nameof(parameters));
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, $"Curvature.{op}: the number of eigenvalues must be at least 1, got {count}.");
        return parameters.Select(p => p.Detach()).ToArray();
    }

    private static CurvatureSpectrum Spectrum<T>(Func<double[], double[]> multiply, Tensor<T>[] at, int count, int steps, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Curvature: the number of Lanczos steps must be >= 0 (0: automatic), got {steps}.");
        int n = ParameterVector.Length(at);
        int m = Math.Min(n, steps > 0 ? steps : Math.Max(3 * count + 10, 20));
        var ritz = Lanczos.RitzValues(multiply, n, m, seed);
        return new CurvatureSpectrum(ritz.Take(count).ToArray(), ritz[^1], ritz.Length);
    }
}
