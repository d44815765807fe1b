namespace AutoDiffLstm.Tests.Kernels;

public class HouseholderQrTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(30, 30)]
    [InlineData(80, 25)]
    public void FactorsAGaussianMatrix(int m, int n)
    {
        var a = Gaussian(new Rng((ulong)(m * 100 + n)), m, n);
        AssertValidFactorisation(a, m, n);
    }

    [Fact]
    public void StaysOrthonormalForANearlyRankDeficientMatrix()
    {
        // Column 1 = column 0 + 1e-12 noise: cond(A) ~ 1e12, where Gram-Schmidt would lose orthogonality entirely.
        int m = 20, n = 4;
        var rng = new Rng(5);
        var a = Gaussian(rng, m, n);
        for (int i = 0; i < m; i++) a[1 * m + i] = a[i] + 1e-12 * rng.NextNormal();
        AssertValidFactorisation(a, m, n);
    }

    [Fact]
    public void HandlesAZeroColumn()
    {
        int m = 6, n = 3;
        var a = Gaussian(new Rng(6), m, n);
        Array.Clear(a, 1 * m, m);
        AssertValidFactorisation(a, m, n);
    }

    [Fact]
    public void RejectsAWideMatrix()
    {
        var ex = Assert.Throws<ArgumentException>(() => HouseholderQr.Factor(new double[6], 2, 3));
        Assert.Contains("2 x 3", ex.Message);
    }

    private static void AssertValidFactorisation(double[] a, int m, int n)
    {
        var original = (double[])a.Clone();
        var (q, r) = HouseholderQr.Factor(a, m, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int k = 0; k < m; k++) dot += q[i * m + k] * q[j * m + k];
                Assert.True(Math.Abs(dot - (i == j ? 1 : 0)) < 1e-12, $"(Q^T Q)[{i},{j}] = {dot}");
            }
        double scale = original.Max(Math.Abs);
        for (int row = 0; row < m; row++)
            for (int col = 0; col < n; col++)
            {
                double qr = 0;
                for (int k = 0; k <= col; k++) qr += q[k * m + row] * r[k * n + col];
                Assert.True(Math.Abs(qr - original[col * m + row]) <= 1e-12 * scale, $"(QR)[{row},{col}] = {qr}, A = {original[col * m + row]}");
            }
        for (int i = 0; i < n; i++)
        {
            Assert.True(r[i * n + i] >= 0, $"R[{i},{i}] = {r[i * n + i]} must be non-negative");
            for (int j = 0; j < i; j++) Assert.Equal(0.0, r[i * n + j]);
        }
    }

    /// <summary>Column-major m x n standard normal matrix.</summary>
    private static double[] Gaussian(Rng rng, int m, int n)
    {
        var a = new double[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextNormal();
        return a;
    }
}
