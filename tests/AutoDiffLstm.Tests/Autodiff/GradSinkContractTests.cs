namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// The three modes of <c>GradSink</c>, the one way a backward rule writes an input's gradient: write-or-add (a fresh
/// buffer must be written whole, a begun one is added to), accumulate (a fresh buffer is zeroed first) and take over
/// (only an engine-owned intermediate's buffer, never a gradient someone can see).
/// </summary>
public class GradSinkContractTests
{
    [Fact]
    public void TheFirstSinkIsFreshAndLaterOnesAddOntoIt()
    {
        var x = Tensor.Zeros<double>(3).RequireGrad();
        var first = x.GradSink();
        Assert.True(first.Overwrite);
        first.Add([1.0, 2.0, 3.0]);
        var second = x.GradSink();
        Assert.False(second.Overwrite);
        Assert.Same(first.Array, second.Array);
        second.Add([10.0, 20.0, 30.0]);
        Assert.Equal(new[] { 11.0, 22.0, 33.0 }, x.Grad!.ToArray());
    }

    [Fact]
    public void AccumulateModeZeroesOnlyAFreshBuffer()
    {
        var x = Tensor.Zeros<double>(4).RequireGrad();
        var fresh = x.GradSink();
        fresh.Span.Fill(double.NaN); // a fresh buffer's contents are arbitrary (a recycled pool array)
        Assert.All(fresh.Zeroed().ToArray(), v => Assert.Equal(0.0, v));
        x.GradSink().Zeroed().Fill(5.0);
        Assert.All(x.GradSink().Zeroed().ToArray(), v => Assert.Equal(5.0, v));
    }

    [Fact]
    public void AVisibleGradientIsNeverTakenOver()
    {
        var x = Tensor.Zeros<double>(2).RequireGrad();
        var y = Tensor.Zeros<double>(2).RequireGrad(); // a leaf: its gradient belongs to the user
        y.Grad = Tensor.FromArray(new[] { 7.0, 8.0 }, 2);
        var sink = x.GradSink(passThrough: y);
        Assert.False(sink.TakenOver);
        Assert.True(sink.Overwrite);
        sink.Add(y.GradData!);
        Assert.Equal(new[] { 7.0, 8.0 }, x.Grad!.ToArray());
        Assert.Equal(new[] { 7.0, 8.0 }, y.Grad!.ToArray());
        Assert.False(ReferenceEquals(x.GradData, y.GradData));
    }
}
