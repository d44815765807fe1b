namespace AutoDiffLstm.Diagnostics;

/// <summary>
/// Eigenvalues of a small dense symmetric matrix by the cyclic Jacobi method (Golub and Van Loan, §8.5): plane
/// rotations drive the off-diagonal mass to zero; accurate to a few ulps of the matrix norm. Used on Lanczos'
/// tridiagonal matrix, and by tests on dense Hessians; O(n³) per sweep, for n up to a few hundred.
/// </summary>
public static class SymmetricEigen
{
    /// <summary>The eigenvalues of the symmetric n×n matrix <paramref name="a"/> (row-major, n² values), in descending order.</summary>
    public static double[] Eigenvalues(ReadOnlySpan<double> a, int n)
    {
        if (n < 0 || a.Length != n * n)
            throw new ArgumentException($"SymmetricEigen.Eigenvalues: expected {n}x{n} = {(long)n * n} values, got {a.Length}.");
        var m = a.ToArray();
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double x = m[i * n + j], y = m[j * n + i];
                if (Math.Abs(x - y) > 1e-8 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y))))
                    throw new ArgumentException($"SymmetricEigen.Eigenvalues: the matrix is not symmetric: a[{i},{j}] = {x} but a[{j},{i}] = {y}.");
                m[i * n + j] = m[j * n + i] = (x + y) / 2;
            }
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, scale = 0;
            for (int i = 0; i < n; i++)
            {
                scale += m[i * n + i] * m[i * n + i];
                for (int j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
            }
            if (off <= 1e-30 * Math.Max(scale, double.Epsilon)) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = m[p * n + q];
                    if (apq == 0) continue;
                    // The rotation angle that zeroes a[p,q]: tan θ = t with the smaller root of t² + 2 τ t − 1 = 0.
                    double tau = (m[q * n + q] - m[p * n + p]) / (2 * apq);
                    double t = Math.Sign(tau == 0 ? 1 : tau) / (Math.Abs(tau) + Math.Sqrt(1 + tau * tau));
                    double c = 1 / Math.Sqrt(1 + t * t), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = m[k * n + p], akq = m[k * n + q];
                        m[k * n + p] = c * akp - s * akq;
                        m[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = m[p * n + k], aqk = m[q * n + k];
                        m[p * n + k] = c * apk - s * aqk;
                        m[q * n + k] = s * apk + c * aqk;
                    }
                }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = m[i * n + i];
        Array.Sort(values, (x, y) => y.CompareTo(x));
        return values;
    }
}
