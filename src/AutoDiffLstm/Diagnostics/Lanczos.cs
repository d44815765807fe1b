using AutoDiffLstm.Training;

namespace AutoDiffLstm.Diagnostics;

/// <summary>
/// The Lanczos iteration with full reorthogonalisation (Lanczos 1950; Golub and Van Loan, §10.1) for the extreme
/// eigenvalues of a symmetric operator given only as v ↦ A v: m steps build an orthonormal Krylov basis Q and the
/// tridiagonal T = Qᵀ A Q (α on the diagonal, β beside it),
/// <code>
/// w = A q_j − β_{j−1} q_{j−1},  α_j = q_jᵀ w,  w ← w − α_j q_j,  w ← w − Q (Qᵀ w) (twice),  β_j = ‖w‖,  q_{j+1} = w / β_j
/// </code>
/// and T's eigenvalues (Ritz values) approximate A's extreme ones first; with m = n they are exact up to rounding.
/// Reorthogonalising against every previous vector costs O(m n) per step but keeps the spurious copies of converged
/// eigenvalues that plain Lanczos produces in floating point out of the answer.
/// </summary>
public static class Lanczos
{
    /// <summary>The Ritz values of <paramref name="steps"/> Lanczos steps (fewer when the Krylov space closes), descending.</summary>
    /// <param name="multiply">v ↦ A v for symmetric A; must not modify v.</param>
    /// <param name="dimension">n, the length of the vectors.</param>
    /// <param name="steps">m, the most steps (products), 1 ≤ m ≤ n is useful; larger values are capped at n.</param>
    /// <param name="seed">Seed of the random start vector.</param>
    public static double[] RitzValues(Func<double[], double[]> multiply, int dimension, int steps, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(multiply);
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Lanczos: the dimension must be at least 1, got {dimension}.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Lanczos: the number of steps must be at least 1, got {steps}.");
        int m = Math.Min(steps, dimension);
        var rng = new Rng(seed);
        var q = new double[dimension];
        for (int i = 0; i < dimension; i++) q[i] = rng.NextNormal();
        Scale(q, 1 / ParameterVector.Norm(q));
        var basis = new List<double[]>();
        var alpha = new List<double>();
        var beta = new List<double>();
        for (int j = 0; j < m; j++)
        {
            basis.Add(q);
            var w = multiply(q);
            if (w is null || w.Length != dimension)
                throw new InvalidOperationException($"Lanczos: the product returned {w?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"} elements for a vector of {dimension}.");
            w = (double[])w.Clone();
            double a = ParameterVector.Dot(q, w);
            alpha.Add(a);
            for (int pass = 0; pass < 2; pass++)
                foreach (var v in basis) ParameterVector.AddScaled(w, -ParameterVector.Dot(v, w), v);
            double b = ParameterVector.Norm(w);
            // The Krylov space is invariant: T's eigenvalues are already A's restricted to it.
            if (j == m - 1 || b <= 1e-12 * Math.Max(Math.Abs(a), beta.Count > 0 ? beta[^1] : 0)) break;
            beta.Add(b);
            Scale(w, 1 / b);
            q = w;
        }
        int k = alpha.Count;
        var t = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            t[i * k + i] = alpha[i];
            if (i + 1 < k) t[i * k + i + 1] = t[(i + 1) * k + i] = beta[i];
        }
        return SymmetricEigen.Eigenvalues(t, k);
    }

    private static void Scale(double[] v, double s)
    {
        for (int i = 0; i < v.Length; i++) v[i] *= s;
    }
}
