using AutoDiffLstm.Training;

namespace AutoDiffLstm.Tests.Training;

public class GradientClippingTests
{
    // Two parameters with gradients [3, 4] and [12]: global norm √(9 + 16 + 144) = 13.
    private static Tensor<double>[] Params(out Tensor<double> noGrad)
    {
        var a = Tensor.Zeros<double>(2).RequireGrad();
        var b = Tensor.Zeros<double>(1).RequireGrad();
        noGrad = Tensor.Zeros<double>(3).RequireGrad();
        a.Grad = Tensor.FromArray(new double[] { 3, 4 });
        b.Grad = Tensor.FromArray(new double[] { 12 });
        return [a, noGrad, b];
    }

    [Fact]
    public void GlobalNormCoversAllGradients() => Assert.Equal(13.0, GradientClipping.GlobalNorm(Params(out _)), 15);

    [Theory]
    [InlineData(13.0)]
    [InlineData(26.0)]
    public void NormAtOrBelowTheThresholdLeavesGradientsUntouched(double maxNorm)
    {
        var ps = Params(out var noGrad);
        Assert.Equal(13.0, GradientClipping.ClipByGlobalNorm(ps, maxNorm), 15);
        Assert.Equal([3.0, 4.0], ps[0].Grad!.ToArray());
        Assert.Equal([12.0], ps[2].Grad!.ToArray());
        Assert.Null(noGrad.Grad);
    }

    [Fact]
    public void NormAboveTheThresholdIsScaledDownToIt()
    {
        var ps = Params(out var noGrad);
        double pre = GradientClipping.ClipByGlobalNorm(ps, 6.5);
        Assert.Equal(13.0, pre, 15);
        Assert.Equal([1.5, 2.0], ps[0].Grad!.ToArray());
        Assert.Equal([6.0], ps[2].Grad!.ToArray());
        Assert.Equal(6.5, GradientClipping.GlobalNorm(ps), 14);
        Assert.Null(noGrad.Grad);
    }

    [Fact]
    public void FloatNormIsAccumulatedInDouble()
    {
        // 1e20² = 1e40 overflows float (max ≈ 3.4e38) but not double.
        var p = Tensor.Zeros<float>(2).RequireGrad();
        p.Grad = Tensor.FromArray(new float[] { 1e20f, 1e20f });
        double norm = GradientClipping.GlobalNorm([p]);
        Assert.Equal(Math.Sqrt(2) * 1e20f, norm, 1e6);
        // Many small float terms: a float accumulator would drift; the double sum of 1e6 · (0.1f)² is exact to ~1e-10.
        var q = Tensor.Full(0.1f, 1_000_003).RequireGrad();
        q.Grad = Tensor.Full(0.1f, 1_000_003);
        Assert.Equal(Math.Sqrt(1_000_003.0 * (double)0.1f * 0.1f), GradientClipping.GlobalNorm([q]), 9);
    }

    [Fact]
    public void HugeFiniteDoubleGradientsGiveAFiniteNorm()
    {
        var p = Tensor.Zeros<double>(2).RequireGrad();
        p.Grad = Tensor.FromArray(new double[] { 3e200, 4e200 });
        double pre = GradientClipping.ClipByGlobalNorm([p], 1.0);
        Assert.Equal(5e200, pre, 5e186);
        Assert.Equal(0.6, p.Grad.AsSpan()[0], 14);
        Assert.Equal(0.8, p.Grad.AsSpan()[1], 14);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NonFiniteNormIsReturnedAndGradientsAreLeftUntouched(double bad)
    {
        var ps = Params(out _);
        ps[2].Grad!.AsWritableSpan()[0] = bad;
        double norm = GradientClipping.ClipByGlobalNorm(ps, 1.0);
        Assert.False(double.IsFinite(norm));
        Assert.Equal(double.IsNaN(bad), double.IsNaN(norm));
        Assert.Equal([3.0, 4.0], ps[0].Grad!.ToArray());
        Assert.Equal(bad, ps[2].Grad!.AsSpan()[0]);
    }

    [Fact]
    public void ClipByValueClampsEachElement()
    {
        var p = Tensor.Zeros<double>(5).RequireGrad();
        p.Grad = Tensor.FromArray(new double[] { -3, -1, 0.5, 2, double.NaN });
        GradientClipping.ClipByValue([p], 1.0);
        var g = p.Grad.ToArray();
        Assert.Equal([-1.0, -1.0, 0.5, 1.0], g[..4]);
        Assert.True(double.IsNaN(g[4]));
    }

    [Fact]
    public void ClipByValueOnFloatMatchesScalarClampAcrossSimdWidths()
    {
        var rng = new Rng(5);
        var p = Tensor.Zeros<float>(37).RequireGrad();
        p.Grad = Tensor.RandomNormal<float>(rng, [37], std: 2);
        var before = p.Grad.ToArray();
        GradientClipping.ClipByValue([p], 1.5);
        Assert.Equal(before.Select(x => Math.Clamp(x, -1.5f, 1.5f)).ToArray(), p.Grad.ToArray());
        Assert.Contains(before, x => Math.Abs(x) > 1.5f);   // the test data really needs clipping
    }

    [Fact]
    public void InvalidThresholdsThrow()
    {
        var ps = Params(out _);
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(ps, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(ps, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue(ps, -1));
    }
}
