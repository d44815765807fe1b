namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// Reshape and same-shape Add hand dy to their inputs unchanged, so backward lets an input take over the output's
/// gradient buffer instead of copying it. Taking must never make two tensors share one gradient array, never take a
/// buffer someone can still see (a retained gradient), and leave every gradient value as the rule says.
/// </summary>
public class GradientPassThroughTests
{
    private static Tensor<double> Param(ulong seed, params int[] shape) => Tensor.RandomNormal<double>(new Rng(seed), shape).RequireGrad();

    [Fact]
    public void BothSummandsGetTheirOwnCopyOfTheGradient()
    {
        var x = Param(1, 3, 4);
        var (a, b) = ((x * 2.0).RetainGrad(), (x * 3.0).RetainGrad());
        var w = Tensor.RandomNormal<double>(new Rng(2), [3, 4]);
        ((a + b) * w).Sum().Backward();
        Assert.Equal(w.ToArray(), a.Grad!.ToArray());
        Assert.Equal(w.ToArray(), b.Grad!.ToArray());
        Approx.Equal(w.ToArray().Select(v => 5 * v).ToArray(), x.Grad, 1e-12, "dL/dx");
        Assert.False(ReferenceEquals(a.GradData, b.GradData));
    }

    [Fact]
    public void AValueAddedToItselfGetsTwiceTheGradient()
    {
        var x = Param(3, 2, 5);
        var h = x * 1.5;
        (h + h).Sum().Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(3.0, g));
    }

    [Fact]
    public void ABroadcastSummandIsReducedAndTheOtherTakesTheBuffer()
    {
        var (m, bias) = (Param(4, 3, 4), Param(5, 4));
        var h = (m * 2.0).RetainGrad();
        var w = Tensor.RandomNormal<double>(new Rng(6), [3, 4]);
        ((h + bias) * w).Sum().Backward();
        Assert.Equal(w.ToArray(), h.Grad!.ToArray());
        var expected = new double[4];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) expected[c] += w.ToArray()[r * 4 + c];
        Approx.Equal(expected, bias.Grad, 1e-15, "dL/dbias");
    }

    [Fact]
    public void ARetainedReshapeKeepsItsGradientAndItsInputGetsACopy()
    {
        var x = Param(7, 2, 6);
        var h = (x * 2.0).RetainGrad();
        var r = h.Reshape(3, 4).RetainGrad();
        var w = Tensor.RandomNormal<double>(new Rng(8), [3, 4]);
        (r * w).Sum().Backward();
        Assert.Equal(w.ToArray(), r.Grad!.ToArray());
        Assert.Equal(w.ToArray(), h.Grad!.ToArray());
        Assert.False(ReferenceEquals(r.GradData, h.GradData));
        Assert.Equal(w.ToArray().Select(v => 2 * v), x.Grad!.ToArray());
    }

    [Fact]
    public void ALeafBehindAReshapeAccumulatesAcrossPasses()
    {
        var x = Param(9, 2, 3);
        for (int pass = 1; pass <= 2; pass++)
        {
            (x.Reshape(6) * 4.0).Sum().Backward();
            Assert.All(x.Grad!.ToArray(), g => Assert.Equal(4.0 * pass, g));
        }
    }
}
