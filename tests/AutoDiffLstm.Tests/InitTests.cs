namespace AutoDiffLstm.Tests;

/// <summary>
/// Initialisers: support and variance against their formulas, orthogonality to rounding error, Haar-distributed
/// orthogonal matrices, identity, seeded determinism and clear errors. Statistical tolerances are several standard
/// errors wide (stated per test), and the seeds are fixed, so the tests are deterministic.
/// </summary>
public class InitTests
{
    // ---- uniform families ----

    [Fact]
    public void PyTorchRecurrentIsUniformWithBoundOneOverSqrtHidden()
    {
        const int hidden = 50;
        var w = Init.PyTorchRecurrent<double>(new Rng(1), [4 * hidden, 300], hidden);
        double k = 1 / Math.Sqrt(hidden);
        // n = 60,000: the relative standard error of the variance of a uniform is sqrt(0.8 / n) = 0.37%; allow 2%.
        AssertUniform(w.ToArray(), k, relativeTolerance: 0.02);
        Assert.Equal([4 * hidden, 300], w.Shape);
    }

    [Fact]
    public void UniformCoversTheBoundAndAcceptsAnyShape()
    {
        var w = Init.Uniform<float>(new Rng(2), [10, 20, 30], 0.25);
        Assert.Equal([10, 20, 30], w.Shape);
        AssertUniform(w.ToArray().Select(v => (double)v).ToArray(), 0.25, relativeTolerance: 0.02);
        Assert.Equal(0, Init.Uniform<double>(new Rng(2), [3, 0], 1).Size);
        Assert.Equal(1, Init.Uniform<double>(new Rng(2), [], 1).Size);
    }

    [Fact]
    public void XavierUniformHasTheGlorotBoundAndVariance()
    {
        double gain = 5.0 / 3; // PyTorch's recommended gain for tanh
        var w = Init.XavierUniform<double>(new Rng(3), [300, 200], gain);
        double bound = gain * Math.Sqrt(6.0 / (200 + 300));
        AssertUniform(w.ToArray(), bound, relativeTolerance: 0.02);
        // Glorot's target: Var(W) = gain^2 * 2 / (fan_in + fan_out).
        Assert.Equal(gain * gain * 2.0 / 500, Variance(w.ToArray()), gain * gain * 2.0 / 500 * 0.02);
    }

    [Fact]
    public void XavierNormalHasTheGlorotVarianceAndIsGaussian()
    {
        double gain = Math.Sqrt(2);
        var values = Init.XavierNormal<double>(new Rng(4), [400, 300], gain).ToArray();
        double expectedVariance = gain * gain * 2.0 / (300 + 400);
        // n = 120,000: relative standard error of a normal's variance sqrt(2 / n) = 0.41%; allow 2.5%.
        Assert.Equal(expectedVariance, Variance(values), expectedVariance * 0.025);
        Assert.Equal(0, values.Average(), 5 * Math.Sqrt(expectedVariance / values.Length));
        // Kurtosis 3 for a Gaussian (a uniform of the same variance has 1.8); standard error sqrt(24 / n) = 0.014.
        Assert.Equal(3.0, Kurtosis(values), 0.1);
    }

    [Fact]
    public void FloatAndDoubleDrawTheSameValuesFromTheSameSeed()
    {
        var d = Init.XavierUniform<double>(new Rng(5), [7, 9]).ToArray();
        var f = Init.XavierUniform<float>(new Rng(5), [7, 9]).ToArray();
        Assert.Equal(d.Select(v => (float)v), f);
    }

    // ---- orthogonal ----

    [Theory]
    [InlineData(1, 1)]
    [InlineData(64, 64)]
    [InlineData(100, 30)]   // tall: orthonormal columns, W^T W = I
    [InlineData(30, 100)]   // wide: orthonormal rows, W W^T = I
    [InlineData(256, 256)]
    public void OrthogonalIsOrthonormalToRoundingError(int rows, int cols)
    {
        var w = Init.Orthogonal<double>(new Rng((ulong)(rows * 1000 + cols)), [rows, cols]);
        Assert.Equal([rows, cols], w.Shape);
        AssertOrthonormal(w.ToArray(), rows, cols, scale: 1, tolerance: 1e-10);
    }

    [Fact]
    public void OrthogonalGainScalesTheGramMatrix()
    {
        var w = Init.Orthogonal<double>(new Rng(6), [40, 10], gain: 1.5);
        AssertOrthonormal(w.ToArray(), 40, 10, scale: 1.5, tolerance: 1e-10);
    }

    [Fact]
    public void OrthogonalInFloatIsOrthonormalToSinglePrecision()
    {
        var w = Init.Orthogonal<float>(new Rng(7), [48, 48]);
        AssertOrthonormal(w.ToArray().Select(v => (double)v).ToArray(), 48, 48, scale: 1, tolerance: 1e-5);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(5, 2)]
    [InlineData(2, 5)]
    public void OrthogonalIsHaarDistributed(int rows, int cols)
    {
        // For a Haar-random orthogonal matrix (or the first columns/rows of one) every entry has mean 0 and
        // E[w^2] = 1 / max(rows, cols). Without the sign correction from R's diagonal, QR-based sampling is biased: with
        // Householder, w[0,0] would always be negative (mean about -0.5 here).
        const int samples = 3000;
        int m = Math.Max(rows, cols);
        var sum = new double[rows * cols];
        var sumSquares = new double[rows * cols];
        int positiveDeterminants = 0;
        var rng = new Rng(8);
        for (int s = 0; s < samples; s++)
        {
            var w = Init.Orthogonal<double>(rng, [rows, cols]).ToArray();
            for (int i = 0; i < w.Length; i++) { sum[i] += w[i]; sumSquares[i] += w[i] * w[i]; }
            if (rows == 3 && cols == 3 && Det3(w) > 0) positiveDeterminants++;
        }
        // Standard error of a mean: sqrt(1 / m / samples) <= 0.0105; allow 5 of them. E[w^2] has a smaller error.
        double meanTolerance = 5 * Math.Sqrt(1.0 / m / samples);
        for (int i = 0; i < sum.Length; i++)
        {
            Assert.True(Math.Abs(sum[i] / samples) < meanTolerance, $"entry {i}: mean {sum[i] / samples}, expected 0 +- {meanTolerance}");
            Assert.True(Math.Abs(sumSquares[i] / samples - 1.0 / m) < 0.03, $"entry {i}: E[w^2] = {sumSquares[i] / samples}, expected {1.0 / m}");
        }
        if (rows == 3 && cols == 3)
            // Rotations and reflections are equally likely: binomial standard error sqrt(0.25 / 3000) = 0.009.
            Assert.True(Math.Abs(positiveDeterminants / (double)samples - 0.5) < 0.05, $"fraction of rotations {positiveDeterminants / (double)samples}");
    }

    [Fact]
    public void OrthogonalOfAnEmptyShapeIsEmpty()
    {
        Assert.Equal([0, 5], Init.Orthogonal<double>(new Rng(9), [0, 5]).Shape);
        Assert.Equal(0, Init.Orthogonal<float>(new Rng(9), [4, 0]).Size);
    }

    // ---- identity ----

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(5, 1.0)]
    [InlineData(4, 0.01)]
    public void IdentityIsScaledI(int n, double scale)
    {
        var w = Init.Identity<double>([n, n], scale);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(i == j ? scale : 0.0, w[i, j]);
        Assert.Equal([0.5f, 0f, 0f, 0.5f], Init.Identity<float>([2, 2], 0.5).ToArray());
    }

    // ---- determinism ----

    [Fact]
    public void SameSeedGivesSameWeightsAndDifferentSeedsDiffer()
    {
        foreach (var make in new Func<Rng, double[]>[]
        {
            r => Init.PyTorchRecurrent<double>(r, [8, 4], 2).ToArray(),
            r => Init.XavierUniform<double>(r, [8, 4]).ToArray(),
            r => Init.XavierNormal<double>(r, [8, 4]).ToArray(),
            r => Init.Orthogonal<double>(r, [8, 4]).ToArray(),
        })
        {
            Assert.Equal(make(new Rng(42)), make(new Rng(42)));
            Assert.NotEqual(make(new Rng(42)), make(new Rng(43)));
        }
    }

    // ---- errors ----

    [Fact]
    public void BadShapesAndSizesGiveClearErrors()
    {
        var rng = new Rng(10);
        AssertThrows<ArgumentException>(() => Init.XavierUniform<double>(rng, [3, 4, 5]), "Init.XavierUniform", "[3, 4, 5]", "rank 3");
        AssertThrows<ArgumentException>(() => Init.XavierNormal<double>(rng, [7]), "Init.XavierNormal", "[7]", "[out, in]");
        AssertThrows<ArgumentException>(() => Init.XavierUniform<double>(rng, [0, 0]), "Init.XavierUniform", "fan_in + fan_out = 0");
        AssertThrows<ArgumentException>(() => Init.Orthogonal<double>(rng, [2, 3, 4]), "Init.Orthogonal", "[2, 3, 4]");
        AssertThrows<ArgumentException>(() => Init.Orthogonal<double>(rng, [-2, 3]), "Init.Orthogonal", "[-2, 3]", "negative");
        AssertThrows<ArgumentException>(() => Init.Identity<double>([3, 4]), "Init.Identity", "[3, 4]", "not square");
        AssertThrows<ArgumentException>(() => Init.Identity<double>([3]), "Init.Identity", "[3]");
        AssertThrows<ArgumentOutOfRangeException>(() => Init.PyTorchRecurrent<double>(rng, [4, 4], 0), "Init.PyTorchRecurrent", "hiddenSize", "got 0");
        AssertThrows<ArgumentOutOfRangeException>(() => Init.Uniform<double>(rng, [4], -1), "Init.Uniform", "bound", "-1");
        AssertThrows<ArgumentOutOfRangeException>(() => Init.XavierUniform<double>(rng, [4, 4], double.NaN), "Init.XavierUniform", "gain", "NaN");
        AssertThrows<ArgumentOutOfRangeException>(() => Init.Orthogonal<double>(rng, [4, 4], -1), "Init.Orthogonal", "gain", "-1");
        AssertThrows<ArgumentOutOfRangeException>(() => Init.Identity<double>([2, 2], double.PositiveInfinity), "Init.Identity", "scale");
        Assert.Throws<ArgumentNullException>(() => Init.Orthogonal<double>(null!, [2, 2]));
    }

    // ---- helpers ----

    private static void AssertThrows<TException>(Action action, params string[] fragments) where TException : Exception
    {
        var ex = Assert.Throws<TException>(action);
        foreach (var fragment in fragments) Assert.Contains(fragment, ex.Message);
    }

    /// <summary>Values within [-bound, bound], reaching close to both ends, with mean 0 and variance bound^2 / 3.</summary>
    private static void AssertUniform(double[] values, double bound, double relativeTolerance)
    {
        Assert.All(values, v => Assert.InRange(v, -bound, bound));
        Assert.True(values.Max() > 0.99 * bound && values.Min() < -0.99 * bound, $"samples span [{values.Min()}, {values.Max()}], expected nearly [-{bound}, {bound}]");
        double variance = bound * bound / 3;
        Assert.Equal(variance, Variance(values), variance * relativeTolerance);
        Assert.Equal(0, values.Average(), 5 * Math.Sqrt(variance / values.Length));
    }

    /// <summary>W^T W (rows &gt;= cols) or W W^T (rows &lt; cols) equals scale^2 I within tolerance.</summary>
    private static void AssertOrthonormal(double[] w, int rows, int cols, double scale, double tolerance)
    {
        bool tall = rows >= cols;
        int n = Math.Min(rows, cols), len = Math.Max(rows, cols);
        double worst = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int k = 0; k < len; k++)
                    dot += tall ? w[k * cols + i] * w[k * cols + j] : w[i * cols + k] * w[j * cols + k];
                worst = Math.Max(worst, Math.Abs(dot - (i == j ? scale * scale : 0)));
            }
        Assert.True(worst <= tolerance, $"{(tall ? "W^T W" : "W W^T")} differs from {scale * scale} I by up to {worst:E2} (tolerance {tolerance:E0})");
    }

    private static double Variance(double[] values)
    {
        double mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
    }

    private static double Kurtosis(double[] values)
    {
        double mean = values.Average();
        double m2 = values.Average(v => Math.Pow(v - mean, 2));
        double m4 = values.Average(v => Math.Pow(v - mean, 4));
        return m4 / (m2 * m2);
    }

    private static double Det3(double[] a) =>
        a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
}
