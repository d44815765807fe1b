namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>Anomaly mode names the first operation that produces NaN or Inf, in forward or in backward.</summary>
public class AnomalyModeTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    public void ForwardLogOfANonPositiveValueIsReportedAsAForwardAnomaly(double bad)
    {
        var x = Tensor.FromArray(new[] { 1.0, bad, 2.0 }).RequireGrad();
        AnomalyException error;
        using (Autograd.DetectAnomaly())
            error = Assert.Throws<AnomalyException>(() => x.Log());
        Assert.Equal("Log", error.Operation);
        Assert.True(error.InForward);
        Assert.Contains("'Log'", error.Message);
        Assert.Contains("flat index 1", error.Message);
        Assert.Contains("[3]", error.Message);
    }

    [Fact]
    public void ForwardAnomaliesAreDetectedEvenWhenNothingIsRecorded()
    {
        var x = Tensor.FromArray(new[] { 0.0 });
        using var _ = Autograd.DetectAnomaly();
        using var __ = Autograd.NoGrad();
        Assert.Equal("Log", Assert.Throws<AnomalyException>(() => x.Log()).Operation);
    }

    [Fact]
    public void BackwardInfinityFromSqrtAtZeroIsReportedAsABackwardAnomalyOfSqrt()
    {
        var x = Tensor.FromArray(new[] { 4.0, 0.0 }).RequireGrad();
        AnomalyException error;
        using (Autograd.DetectAnomaly())
        {
            var loss = x.Sqrt().Sum(); // forward is finite: sqrt(0) = 0
            error = Assert.Throws<AnomalyException>(() => loss.Backward());
        }
        Assert.Equal("Sqrt", error.Operation);
        Assert.False(error.InForward);
        Assert.Contains("'Sqrt'", error.Message);
        Assert.Contains("backward", error.Message);
    }

    [Fact]
    public void BackwardNanFromZeroTimesInfinityIsReportedAtTheOperationThatMadeIt()
    {
        // L = sum(sqrt(x) * 0): dL/dsqrt = 0 is finite, then Sqrt's rule computes 0 / (2 * 0) = NaN.
        var x = Tensor.FromArray(new[] { 0.0 }).RequireGrad();
        using var _ = Autograd.DetectAnomaly();
        var loss = (x.Sqrt() * 0.0).Sum();
        var error = Assert.Throws<AnomalyException>(() => loss.Backward());
        Assert.Equal("Sqrt", error.Operation);
        Assert.False(error.InForward);
    }

    [Fact]
    public void FailedBackwardFreesTheTapeAndLeavesNoHalfPropagatedGradientBehind()
    {
        var x = Tensor.FromArray(new[] { 0.0 }).RequireGrad();
        Tensor<double> h;
        using (Autograd.DetectAnomaly())
        {
            h = x.Sqrt();
            var loss = (h * 2.0).Sum();
            Assert.Throws<AnomalyException>(() => loss.Backward());
        }
        Assert.Null(h.Grad);
        Assert.Equal(0, Tape.Current.Count);

        var y = Tensor.FromArray(new[] { 3.0 }).RequireGrad();
        (y * y).Sum().Backward();
        Assert.Equal(6.0, y.Grad![0]);
    }

    [Fact]
    public void OutsideAnomalyModeNonFiniteValuesPassThroughSilently()
    {
        Assert.False(Autograd.AnomalyDetectionEnabled);
        var x = Tensor.FromArray(new[] { 0.0, 1.0 }).RequireGrad();
        Assert.Equal(double.NegativeInfinity, x.Log()[0]);
        x.Sqrt().Sum().Backward();
        Assert.Equal(double.PositiveInfinity, x.Grad![0]);
        Assert.Equal(0.5, x.Grad![1]);
    }

    [Fact]
    public void AnomalyScopeEndsWhenDisposed()
    {
        using (Autograd.DetectAnomaly())
        {
            using (Autograd.DetectAnomaly()) Assert.True(Autograd.AnomalyDetectionEnabled);
            Assert.True(Autograd.AnomalyDetectionEnabled);
        }
        Assert.False(Autograd.AnomalyDetectionEnabled);
        Assert.Equal(double.NegativeInfinity, Tensor.FromArray(new[] { 0.0 }).Log()[0]);
    }
}
