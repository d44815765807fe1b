using AutoDiffLstm.Training;
using static AutoDiffLstm.Tests.Training.OptimizerTestHelpers;

namespace AutoDiffLstm.Tests.Training;

public class AdamTests
{
    private static readonly double[] P0 = [1.0, -2.0, 0.5];
    private static readonly double[] G1 = [0.1, -0.3, 2.0];
    private static readonly double[] G2 = [0.2, 0.4, -1.0];
    private const double Lr = 0.01, B1 = 0.9, B2 = 0.999, Eps = 1e-8;

    [Fact]
    public void FirstStepMovesEachWeightByAboutTheLearningRate()
    {
        // At t = 1, m̂ = g and v̂ = g², so the step is lr · g / (|g| + ε): by hand, 0.01 · sign(g) up to ε.
        var p = Param(P0);
        var opt = new Adam<double>([p], Lr, B1, B2, Eps);
        SetGrad(p, G1);
        opt.Step();
        AssertClose([1.0 - Lr * 0.1 / (0.1 + Eps), -2.0 + Lr * 0.3 / (0.3 + Eps), 0.5 - Lr * 2.0 / (2.0 + Eps)], p.AsSpan());
    }

    [Fact]
    public void FirstTwoStepsMatchTheEquations()
    {
        var p = Param(P0);
        var opt = new Adam<double>([p], Lr, B1, B2, Eps);
        double[] expected = (double[])P0.Clone(), m = new double[3], v = new double[3];
        SetGrad(p, G1); opt.Step();
        ReferenceOptimizers.Adam(expected, G1, m, v, 1, Lr, B1, B2, Eps, 0, false);
        AssertClose(expected, p.AsSpan());
        SetGrad(p, G2); opt.Step();
        ReferenceOptimizers.Adam(expected, G2, m, v, 2, Lr, B1, B2, Eps, 0, false);
        AssertClose(expected, p.AsSpan());
        // Element 0 by hand: m2 = 0.9·0.01 + 0.1·0.2 = 0.029, v2 = 0.999·1e-5 + 0.001·0.04 = 4.999e-5,
        // m̂ = 0.029/0.19, v̂ = 4.999e-5/0.001999; θ2 = θ1 − 0.01 m̂ / (√v̂ + ε).
        double theta1 = 1.0 - Lr * 0.1 / (0.1 + Eps);
        double theta2 = theta1 - Lr * (0.029 / 0.19) / (Math.Sqrt(4.999e-5 / 0.001999) + Eps);
        Assert.Equal(theta2, p.AsSpan()[0], 13);
    }

    [Fact]
    public void CoupledWeightDecayMatchesTheEquations()
    {
        var p = Param(P0);
        var opt = new Adam<double>([p], Lr, B1, B2, Eps, weightDecay: 0.1);
        double[] expected = (double[])P0.Clone(), m = new double[3], v = new double[3];
        SetGrad(p, G1); opt.Step();
        ReferenceOptimizers.Adam(expected, G1, m, v, 1, Lr, B1, B2, Eps, 0.1, false);
        AssertClose(expected, p.AsSpan());
        SetGrad(p, G2); opt.Step();
        ReferenceOptimizers.Adam(expected, G2, m, v, 2, Lr, B1, B2, Eps, 0.1, false);
        AssertClose(expected, p.AsSpan());
    }

    [Fact]
    public void AdamWFirstTwoStepsMatchTheEquations()
    {
        var p = Param(P0);
        var opt = new AdamW<double>([p], Lr, B1, B2, Eps, weightDecay: 0.1);
        double[] expected = (double[])P0.Clone(), m = new double[3], v = new double[3];
        SetGrad(p, G1); opt.Step();
        ReferenceOptimizers.Adam(expected, G1, m, v, 1, Lr, B1, B2, Eps, 0.1, true);
        AssertClose(expected, p.AsSpan());
        // Element 0 by hand: shrink 1 − 0.01·0.1 = 0.999, then the t = 1 Adam step.
        Assert.Equal(0.999 - Lr * 0.1 / (0.1 + Eps), p.AsSpan()[0], 14);
        SetGrad(p, G2); opt.Step();
        ReferenceOptimizers.Adam(expected, G2, m, v, 2, Lr, B1, B2, Eps, 0.1, true);
        AssertClose(expected, p.AsSpan());
    }

    [Fact]
    public void AdamWDiffersFromAdamWithL2AndEqualsItWithoutDecay()
    {
        var coupled = Param(P0);
        var decoupled = Param(P0);
        var adam = new Adam<double>([coupled], Lr, weightDecay: 0.1);
        var adamW = new AdamW<double>([decoupled], Lr, weightDecay: 0.1);
        SetGrad(coupled, G1); SetGrad(decoupled, G1);
        adam.Step(); adamW.Step();
        for (int i = 0; i < P0.Length; i++)
            Assert.True(Math.Abs(coupled.AsSpan()[i] - decoupled.AsSpan()[i]) > 1e-6, $"element {i}: Adam+L2 and AdamW agree ({coupled.AsSpan()[i]})");

        var a = Param(P0);
        var b = Param(P0);
        var adam0 = new Adam<double>([a], Lr);
        var adamW0 = new AdamW<double>([b], Lr, weightDecay: 0);
        foreach (var g in new[] { G1, G2 })
        {
            SetGrad(a, g); SetGrad(b, g);
            adam0.Step(); adamW0.Step();
        }
        Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Fact]
    public void FloatParametersFollowTheDoubleEquationsToFloatPrecision()
    {
        var p = Tensor.FromArray(P0.Select(x => (float)x).ToArray()).RequireGrad();
        var opt = new AdamW<float>([p], Lr, B1, B2, Eps, weightDecay: 0.1);
        double[] expected = (double[])P0.Clone(), m = new double[3], v = new double[3];
        int t = 0;
        foreach (var g in new[] { G1, G2 })
        {
            p.Grad = Tensor.FromArray(g.Select(x => (float)x).ToArray());
            opt.Step();
            ReferenceOptimizers.Adam(expected, g, m, v, ++t, Lr, B1, B2, Eps, 0.1, true);
        }
        AssertClose(expected, p.AsSpan(), 1e-6);
    }

    [Fact]
    public void BiasCorrectionCountsOnlyTheStepsWhereAParameterHadAGradient()
    {
        var a = Param(P0);
        var late = Param(P0);
        var opt = new Adam<double>([a, late], Lr);
        SetGrad(a, G1);
        opt.Step();
        Assert.Equal(P0, late.ToArray());        // no gradient: skipped
        Assert.Equal(0, opt.StepCount(1));
        SetGrad(late, G2);
        opt.Step();
        Assert.Equal(1, opt.StepCount(1));
        Assert.Equal(2, opt.StepCount(0));
        // Its first update is a t = 1 step: lr · g / (|g| + ε).
        AssertClose([1.0 - Lr * 0.2 / (0.2 + Eps), -2.0 - Lr * 0.4 / (0.4 + Eps), 0.5 + Lr * 1.0 / (1.0 + Eps)], late.AsSpan());
    }

    [Fact]
    public void InvalidBetasThrow()
    {
        var p = Param(P0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>([p], beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>([p], beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW<double>([p], epsilon: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW<double>([p], weightDecay: double.PositiveInfinity));
    }
}
