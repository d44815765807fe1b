using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// The scan primitives beyond the catalogue's short sequences: the chunked kernel (T &gt; 256) against the plain loop,
/// bit-identity across thread counts, gradients at T = 10,000, the log-space form, and padded steps (a = 1, b = 0).
/// </summary>
[Collection(Kernels.GemmThreadsCollection.Name)]
public class ScanProperties
{
    private const double U = 1.1102230246251565e-16; // unit roundoff of double, 2^-53

    /// <summary>The reference: the sequential loop h_t = a_t h_{t-1} + b_t, and the same loop over |a|, |b|, |h0| (H_t, the error scale).</summary>
    private static (double[] H, double[] Scale) Sequential(double[] a, double[] b, double[] h0, int steps, int lanes)
    {
        var h = new double[a.Length];
        var scale = new double[a.Length];
        for (int t = 0; t < steps; t++)
            for (int i = 0; i < lanes; i++)
            {
                int k = t * lanes + i;
                double prev = t == 0 ? h0[i] : h[k - lanes], prevScale = t == 0 ? Math.Abs(h0[i]) : scale[k - lanes];
                h[k] = a[k] * prev + b[k];
                scale[k] = Math.Abs(a[k]) * prevScale + Math.Abs(b[k]);
            }
        return (h, scale);
    }

    private static double[] Values(Rng rng, int n, double lo, double hi)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.NextDouble();
        return v;
    }

    /// <summary>
    /// Over T = 1..1,300 (up to six chunks) and 1..9 lanes: |scan - loop| &lt;= 4 (t + 1) u H_t, twice the forward error
    /// bound each of them satisfies (see LinearScan), and exactly equal for T &lt;= 256 (one chunk: the loop itself).
    /// </summary>
    [Fact]
    public void ScanEqualsTheSequentialRecurrenceWithinItsRoundingBound()
    {
        var gen = from steps in Gen.Choose(1, 1300) from lanes in Gen.Choose(1, 9) from seed in Gen.Choose(0, int.MaxValue) select (steps, lanes, seed);
        Prop.ForAll(gen.ToArbitrary(), p =>
        {
            var rng = new Rng((ulong)p.seed);
            int n = p.steps * p.lanes;
            double[] a = Values(rng, n, -1.05, 1.05), b = Values(rng, n, -1, 1), h0 = Values(rng, p.lanes, -2, 2);
            var y = Tensor.Scan(Tensor.FromArray(a, p.steps, p.lanes), Tensor.FromArray(b, p.steps, p.lanes), Tensor.FromArray(h0, p.lanes)).ToArray();
            var (h, scale) = Sequential(a, b, h0, p.steps, p.lanes);
            for (int k = 0; k < n; k++)
            {
                int t = k / p.lanes;
                double bound = p.steps <= 256 ? 0 : 4 * (t + 1) * U * scale[k];
                if (!(Math.Abs(y[k] - h[k]) <= bound))
                    return false.Label($"T={p.steps}, lanes={p.lanes}, t={t}: scan {y[k]:R}, loop {h[k]:R}, bound {bound:R}");
            }
            return true.Label("");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Fact]
    public void FloatScanEqualsTheFloatLoopUpToOneChunkAndStaysWithinItsBoundBeyond()
    {
        const double UFloat = 5.9604644775390625e-8;
        var rng = new Rng(3);
        int steps = 900, lanes = 13, n = steps * lanes;
        float[] a = Values(rng, n, -1.05, 1.05).Select(v => (float)v).ToArray(), b = Values(rng, n, -1, 1).Select(v => (float)v).ToArray();
        float[] h0 = Values(rng, lanes, -2, 2).Select(v => (float)v).ToArray();
        var y = Tensor.Scan(Tensor.FromArray(a, steps, lanes), Tensor.FromArray(b, steps, lanes), Tensor.FromArray(h0, lanes)).ToArray();
        var h = new float[n];
        for (int k = 0; k < n; k++) h[k] = a[k] * (k < lanes ? h0[k] : h[k - lanes]) + b[k];
        var (_, scale) = Sequential(a.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(), h0.Select(v => (double)v).ToArray(), steps, lanes);
        for (int k = 0; k < n; k++)
        {
            int t = k / lanes;
            if (t < 256) Assert.Equal(h[k], y[k]);
            else Assert.True(Math.Abs(y[k] - h[k]) <= 4 * (t + 1) * UFloat * scale[k], $"t={t}: scan {y[k]}, loop {h[k]}");
        }
    }

    /// <summary>Values and every gradient are the same bits on 1, 2, 3 and 8 threads (the chunking is fixed by T alone).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ValuesAndGradientsAreBitIdenticalForAnyThreadCount(bool logSpace)
    {
        var rng = new Rng(7);
        int steps = 3000, lanes = 37;
        double[] a = Values(rng, steps * lanes, logSpace ? -3 : -1, logSpace ? 0 : 1), b = Values(rng, steps * lanes, -1, 1), h0 = Values(rng, lanes, -1, 1);
        double[] w = Values(rng, steps * lanes, -1, 1);
        double[][] Run(int threads)
        {
            int saved = Parallelism.MaxThreads;
            Parallelism.MaxThreads = threads;
            try
            {
                var (ta, tb, th) = (Tensor.FromArray((double[])a.Clone(), steps, lanes).RequireGrad(), Tensor.FromArray((double[])b.Clone(), steps, lanes).RequireGrad(),
                    Tensor.FromArray((double[])h0.Clone(), lanes).RequireGrad());
                var y = logSpace ? Tensor.LogScan(ta, tb, th) : Tensor.Scan(ta, tb, th);
                var values = y.ToArray();
                (y * Tensor.FromArray(w, steps, lanes)).Sum().Backward();
                return [values, ta.Grad!.ToArray(), tb.Grad!.ToArray(), th.Grad!.ToArray()];
            }
            finally { Parallelism.MaxThreads = saved; }
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3, 8 })
        {
            var other = Run(threads);
            for (int i = 0; i < one.Length; i++)
                Assert.True(one[i].Zip(other[i]).All(p => BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second)),
                    $"array {i} (0 values, 1 da, 2 db, 3 dh0) differs between 1 and {threads} threads");
        }
    }

    /// <summary>dL/da, dL/db, dL/dh0 through 10,000 steps against central differences along random directions (double).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsThroughTenThousandStepsMatchCentralDifferences(bool logSpace)
    {
        var rng = new Rng(11);
        int steps = 10_000, lanes = 3;
        // |a| <= 0.999 (log a in [-2, 0]): the state neither vanishes at once nor grows without bound over 10,000 steps.
        var a = Tensor.FromArray(logSpace ? Values(rng, steps * lanes, -2, 0) : Values(rng, steps * lanes, -0.999, 0.999), steps, lanes);
        var b = Tensor.FromArray(Values(rng, steps * lanes, -1, 1), steps, lanes);
        var h0 = Tensor.FromArray(Values(rng, lanes, -1, 1), lanes);
        var report = GradCheck.Check<double>(x => logSpace ? Tensor.LogScan(x[0], x[1], x[2]) : Tensor.Scan(x[0], x[1], x[2]), [a, b, h0],
            new GradCheckOptions { Mode = GradCheckMode.Directional, Directions = 4 });
        Assert.True(report.Passed, report.ToString());
    }

    /// <summary>
    /// For positive a, b, h0 the log-space scan is the log of the linear scan (to 1e-12 relative where the linear one
    /// does not underflow), and where 1,000 gates of 0.01 underflow the linear product to 0 it stays finite and exact
    /// (log h_T = sum log a + log h0 when b is negligible).
    /// </summary>
    [Fact]
    public void LogScanIsTheLogOfTheLinearScanAndDoesNotUnderflow()
    {
        var rng = new Rng(5);
        int steps = 700, lanes = 4;
        double[] a = Values(rng, steps * lanes, 0.05, 1), b = Values(rng, steps * lanes, 0.01, 1), h0 = Values(rng, lanes, 0.1, 2);
        var linear = Tensor.Scan(Tensor.FromArray(a, steps, lanes), Tensor.FromArray(b, steps, lanes), Tensor.FromArray(h0, lanes)).ToArray();
        var log = Tensor.LogScan(Tensor.FromArray(a.Select(v => Math.Log(v)).ToArray(), steps, lanes), Tensor.FromArray(b.Select(v => Math.Log(v)).ToArray(), steps, lanes),
            Tensor.FromArray(h0.Select(v => Math.Log(v)).ToArray(), lanes)).ToArray();
        for (int k = 0; k < linear.Length; k++) Assert.True(Math.Abs(Math.Exp(log[k]) - linear[k]) <= 1e-12 * linear[k], $"k={k}: {Math.Exp(log[k])} vs {linear[k]}");

        var logA = Tensor.Full(Math.Log(0.01), 1000, 1);
        var logB = Tensor.Full(double.NegativeInfinity, 1000, 1);
        var decayed = Tensor.LogScan(logA, logB, Tensor.FromArray([0.0], 1)).ToArray();
        Assert.Equal(1000 * Math.Log(0.01), decayed[^1], 1e-9);
        Assert.Equal(0.0, Tensor.Scan(Tensor.Full(0.01, 1000, 1), Tensor.Zeros<double>(1000, 1), Tensor.FromArray([1.0], 1)).ToArray()[^1]);
    }

    /// <summary>
    /// Padding as the layers apply it: at a padded step a = 1 and b = 0, so the state is carried unchanged; each sequence's
    /// live prefix scans to what a scan of that prefix alone gives, padded steps repeat its last state, and no gradient
    /// reaches the a and b of padded steps (they are constants selected by Where).
    /// </summary>
    [Fact]
    public void PaddedStepsKeepTheStateAndTakeNoGradient()
    {
        var rng = new Rng(9);
        int steps = 600, batch = 3, hidden = 2;
        int[] lengths = [600, 257, 0];
        var a = Tensor.FromArray(Values(rng, steps * batch * hidden, -1, 1), steps, batch, hidden).RequireGrad();
        var b = Tensor.FromArray(Values(rng, steps * batch * hidden, -1, 1), steps, batch, hidden).RequireGrad();
        var h0 = Tensor.FromArray(Values(rng, batch * hidden, -1, 1), batch, hidden);
        var mask = AutoDiffLstm.Recurrent.SequenceMask.FromLengths<double>(lengths, steps).Reshape(steps, batch, 1);
        var y = Tensor.Scan(Tensor.Where(mask, a, Tensor.Ones<double>(steps, batch, hidden)), Tensor.Where(mask, b, Tensor.Zeros<double>(steps, batch, hidden)), h0);
        y.Sum().Backward();
        for (int s = 0; s < batch; s++)
        {
            int len = lengths[s];
            double[] Column(Tensor<double> t, int upTo) =>
                Enumerable.Range(0, upTo).SelectMany(i => new[] { t[i, s, 0], t[i, s, 1] }).ToArray();
            var alone = len == 0 ? [] : Tensor.Scan(Tensor.FromArray(Column(a, len), len, hidden), Tensor.FromArray(Column(b, len), len, hidden),
                Tensor.FromArray([h0[s, 0], h0[s, 1]], hidden)).ToArray();
            for (int t = 0; t < steps; t++)
                for (int j = 0; j < hidden; j++)
                {
                    double expected = t < len ? alone[t * hidden + j] : len == 0 ? h0[s, j] : alone[(len - 1) * hidden + j];
                    Assert.Equal(expected, y[t, s, j]);
                    if (t >= len) Assert.True(a.Grad![t, s, j] == 0 && b.Grad![t, s, j] == 0, $"padded step {t} of sequence {s} got a gradient");
                }
        }
    }

    [Fact]
    public void MismatchedShapesAreRejectedWithTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Scan(Tensor.Zeros<double>(4, 3), Tensor.Zeros<double>(4, 3), Tensor.Zeros<double>(2)));
        Assert.Contains("Scan", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        Assert.Contains("[2]", e.Message);
    }
}
