using AutoDiffLstm.Training;
using static AutoDiffLstm.Tests.Training.OptimizerTestHelpers;

namespace AutoDiffLstm.Tests.Training;

public class SgdTests
{
    private static readonly double[] P0 = [1.0, -2.0, 0.5];
    private static readonly double[] G1 = [0.5, -1.0, 2.0];
    private static readonly double[] G2 = [0.25, 0.5, -1.0];

    [Fact]
    public void PlainSgdTakesTwoStepsAgainstTheGradient()
    {
        var p = Param(P0);
        var opt = new Sgd<double>([p], learningRate: 0.1);
        SetGrad(p, G1);
        opt.Step();
        // θ1 = θ0 − 0.1 g1, by hand.
        AssertClose([0.95, -1.9, 0.3], p.AsSpan());
        SetGrad(p, G2);
        opt.Step();
        AssertClose([0.925, -1.95, 0.4], p.AsSpan());
    }

    [Fact]
    public void MomentumFirstTwoStepsMatchTheEquations()
    {
        var p = Param(P0);
        var opt = new Sgd<double>([p], learningRate: 0.1, momentum: 0.9);
        SetGrad(p, G1);
        opt.Step();
        // b1 = g1, θ1 = θ0 − 0.1 b1.
        AssertClose([0.95, -1.9, 0.3], p.AsSpan());
        SetGrad(p, G2);
        opt.Step();
        // b2 = 0.9 b1 + g2 = [0.7, -0.4, 0.8]; θ2 = θ1 − 0.1 b2.
        AssertClose([0.88, -1.86, 0.22], p.AsSpan());
    }

    [Fact]
    public void NesterovFirstTwoStepsMatchTheEquations()
    {
        var p = Param(P0);
        var opt = new Sgd<double>([p], learningRate: 0.1, momentum: 0.9, nesterov: true);
        SetGrad(p, G1);
        opt.Step();
        // b1 = g1, step = g1 + 0.9 b1 = 1.9 g1 = [0.95, -1.9, 3.8].
        AssertClose([0.905, -1.81, 0.12], p.AsSpan());
        SetGrad(p, G2);
        opt.Step();
        // b2 = [0.7, -0.4, 0.8]; step = g2 + 0.9 b2 = [0.88, 0.14, -0.28].
        AssertClose([0.817, -1.824, 0.148], p.AsSpan());
    }

    [Fact]
    public void NesterovAndPlainMomentumDifferFromTheFirstStep()
    {
        var plain = Param(P0);
        var nest = Param(P0);
        var a = new Sgd<double>([plain], 0.1, momentum: 0.9);
        var b = new Sgd<double>([nest], 0.1, momentum: 0.9, nesterov: true);
        foreach (var g in new[] { G1, G2 })
        {
            SetGrad(plain, g); SetGrad(nest, g);
            a.Step(); b.Step();
            for (int i = 0; i < P0.Length; i++) Assert.NotEqual(plain.AsSpan()[i], nest.AsSpan()[i]);
        }
    }

    [Fact]
    public void WeightDecayAddsLambdaThetaToTheGradient()
    {
        var p = Param(P0);
        var opt = new Sgd<double>([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01);
        double[] expected = (double[])P0.Clone(), buf = new double[3];
        SetGrad(p, G1); opt.Step();
        ReferenceOptimizers.Sgd(expected, G1, buf, 1, 0.1, 0.9, false, 0.01);
        AssertClose(expected, p.AsSpan());
        // By hand for element 0: d1 = 0.5 + 0.01·1 = 0.51, θ1 = 1 − 0.051 = 0.949.
        Assert.Equal(0.949, p.AsSpan()[0], 14);
        SetGrad(p, G2); opt.Step();
        ReferenceOptimizers.Sgd(expected, G2, buf, 2, 0.1, 0.9, false, 0.01);
        AssertClose(expected, p.AsSpan());
    }

    [Fact]
    public void LearningRateCanBeChangedBetweenSteps()
    {
        var p = Param(P0);
        var opt = new Sgd<double>([p], learningRate: 0.1);
        SetGrad(p, G1); opt.Step();
        opt.LearningRate = 0.5;
        SetGrad(p, G2); opt.Step();
        AssertClose([1.0 - 0.05 - 0.125, -2.0 + 0.1 - 0.25, 0.5 - 0.2 + 0.5], p.AsSpan());
    }

    [Fact]
    public void InvalidHyperparametersThrowNamingTheProblem()
    {
        var p = Param(P0);
        var e = Assert.Throws<ArgumentException>(() => new Sgd<double>([p], 0.1, momentum: 0, nesterov: true));
        Assert.Contains("Nesterov", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>([p], -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>([p], double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>([p], 0.1, momentum: -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd<double>([p], 0.1, weightDecay: -1));
        var dup = Assert.Throws<ArgumentException>(() => new Sgd<double>([p, p], 0.1));
        Assert.Contains("twice", dup.Message);
    }
}
