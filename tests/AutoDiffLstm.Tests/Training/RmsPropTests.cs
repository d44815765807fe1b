using AutoDiffLstm.Training;
using static AutoDiffLstm.Tests.Training.OptimizerTestHelpers;

namespace AutoDiffLstm.Tests.Training;

public class RmsPropTests
{
    private static readonly double[] P0 = [1.0, -2.0, 0.5];
    private static readonly double[] G1 = [0.1, -0.3, 2.0];
    private static readonly double[] G2 = [0.2, 0.4, -1.0];

    [Fact]
    public void PlainFirstStepByHand()
    {
        // v1 = (1 − α) g², so the step is lr · g / (√(1 − α) |g| + ε) = lr · sign(g) / √0.01 = 10 lr · sign(g) (up to ε).
        var p = Param(P0);
        var opt = new RmsProp<double>([p], learningRate: 0.001, alpha: 0.99, epsilon: 0);
        SetGrad(p, G1);
        opt.Step();
        AssertClose([0.99, -1.99, 0.49], p.AsSpan(), 1e-12);
    }

    [Theory]
    [InlineData(false, 0.0, 0.0)]
    [InlineData(true, 0.0, 0.0)]
    [InlineData(false, 0.9, 0.0)]
    [InlineData(true, 0.9, 0.0)]
    [InlineData(false, 0.0, 0.05)]
    [InlineData(true, 0.5, 0.05)]
    public void FirstTwoStepsMatchTheEquations(bool centered, double momentum, double weightDecay)
    {
        const double lr = 0.01, alpha = 0.9, eps = 1e-8;
        var p = Param(P0);
        var opt = new RmsProp<double>([p], lr, alpha, eps, weightDecay, momentum, centered);
        double[] expected = (double[])P0.Clone(), v = new double[3], gAvg = new double[3], b = new double[3];
        foreach (var g in new[] { G1, G2 })
        {
            SetGrad(p, g);
            opt.Step();
            ReferenceOptimizers.RmsProp(expected, g, v, gAvg, b, lr, alpha, eps, weightDecay, momentum, centered);
            AssertClose(expected, p.AsSpan(), 1e-12);
        }
    }

    [Fact]
    public void CenteredFirstStepByHand()
    {
        // v1 = 0.1 g², ḡ1 = 0.1 g, ṽ1 = 0.1 g² − 0.01 g² = 0.09 g²: step = lr · g / (0.3 |g|) = lr/0.3 · sign(g).
        var p = Param(P0);
        var opt = new RmsProp<double>([p], learningRate: 0.03, alpha: 0.9, epsilon: 0, centered: true);
        SetGrad(p, G1);
        opt.Step();
        AssertClose([0.9, -1.9, 0.4], p.AsSpan(), 1e-12);
    }

    [Fact]
    public void CenteringChangesTheUpdate()
    {
        var a = Param(P0);
        var b = Param(P0);
        var plain = new RmsProp<double>([a], 0.01);
        var centered = new RmsProp<double>([b], 0.01, centered: true);
        SetGrad(a, G1); SetGrad(b, G1);
        plain.Step(); centered.Step();
        for (int i = 0; i < P0.Length; i++) Assert.NotEqual(a.AsSpan()[i], b.AsSpan()[i]);
    }

    [Fact]
    public void InvalidAlphaThrows()
    {
        var p = Param(P0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp<double>([p], alpha: 1.5));
        Assert.Contains("alpha", e.Message);
    }
}
