using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// Thin QR factorisation A = Q R of a tall matrix (m &gt;= n) by Householder reflections, in double. Householder keeps Q
/// orthonormal to rounding error whatever the conditioning of A (Gram-Schmidt loses orthogonality in proportion to
/// cond(A)). The factors are normalised so that R has a non-negative diagonal, which makes them unique and, for a
/// Gaussian A, makes Q Haar-distributed (Mezzadri 2007, "How to generate random matrices from the classical compact
/// groups").
/// </summary>
internal static class HouseholderQr
{
    /// <summary>
    /// Factorises A, given column-major (column j is <c>a[j*m .. (j+1)*m)</c>); A is overwritten. Returns Q column-major
    /// (m x n, orthonormal columns) and R row-major (n x n, upper triangular, diagonal &gt;= 0).
    /// </summary>
    public static (double[] Q, double[] R) Factor(double[] a, int m, int n)
    {
        if (m < n) throw new ArgumentException($"HouseholderQr: needs a tall matrix (rows >= columns), got {m} x {n}.");
        if (a.Length != m * n) throw new ArgumentException($"HouseholderQr: {a.Length} values for a {m} x {n} matrix.");
        var diagonal = new double[n];
        // After step k, column k holds the unit Householder vector v_k in rows k..m-1 (H_k = I - 2 v_k v_k^T), rows
        // above hold R's column k; R's diagonal entry goes to `diagonal` since v_k occupies its place.
        for (int k = 0; k < n; k++)
        {
            var x = a.AsSpan(k * m + k, m - k);
            double norm = TP.Norm(x);
            // Reflect x onto -sign(x0) ||x|| e1, the choice that avoids cancellation when forming v = x - alpha e1.
            double alpha = x[0] >= 0 ? -norm : norm;
            diagonal[k] = alpha;
            x[0] -= alpha;
            double vNorm = TP.Norm(x);
            if (vNorm == 0)
            {
                x.Clear(); // x was already zero: H_k = I
                continue;
            }
            TP.Divide(x, vNorm, x);
            for (int j = k + 1; j < n; j++)
                Reflect(x, a.AsSpan(j * m + k, m - k));
        }

        var q = new double[m * n];
        for (int c = 0; c < n; c++)
        {
            // Q e_c = H_0 H_1 ... H_{n-1} e_c; reflections H_k with k > c leave e_c unchanged (zeros in rows >= k).
            var column = q.AsSpan(c * m, m);
            column[c] = 1;
            for (int k = c; k >= 0; k--)
                Reflect(a.AsSpan(k * m + k, m - k), column.Slice(k));
        }

        var r = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            // Flip the signs of Q's column i and R's row i together (Q R is unchanged) so that R_ii >= 0.
            double sign = diagonal[i] < 0 ? -1 : 1;
            r[i * n + i] = sign * diagonal[i];
            for (int j = i + 1; j < n; j++) r[i * n + j] = sign * a[j * m + i];
            if (sign < 0) TP.Negate(q.AsSpan(i * m, m), q.AsSpan(i * m, m));
        }
        return (q, r);
    }

    /// <summary>y = (I - 2 v v^T) y.</summary>
    private static void Reflect(ReadOnlySpan<double> v, Span<double> y)
    {
        double s = -2 * TP.Dot(v, y);
        TP.MultiplyAdd(v, s, y, y);
    }
}
