namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>NoGrad scopes and Detach: the two ways to compute without letting gradients through.</summary>
public class GradModeTests
{
    [Fact]
    public void NoGradRecordsNothingAndOutputsDoNotRequireGradients()
    {
        Tape.Current.Reset();
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).RequireGrad();
        var recorded = x * x;
        int before = Tape.Current.Count;
        Tensor<double> y;
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsGradEnabled);
            y = (recorded.Tanh() + x).Sum();
        }
        Assert.Equal(1, before);
        Assert.Equal(before, Tape.Current.Count);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        Assert.True(Autograd.IsGradEnabled);
    }

    [Fact]
    public void NoGradScopesNestAndRecordingResumesOnlyAfterTheOutermostEnds()
    {
        Tape.Current.Reset();
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).RequireGrad();
        var outer = Autograd.NoGrad();
        using (Autograd.NoGrad()) Assert.False((x * x).RequiresGrad);
        Assert.False(Autograd.IsGradEnabled);
        Assert.False((x * x).RequiresGrad);
        Assert.Equal(0, Tape.Current.Count);
        outer.Dispose();
        Assert.True(Autograd.IsGradEnabled);
        Assert.True((x * x).RequiresGrad);
        Assert.Equal(1, Tape.Current.Count);
    }

    [Fact]
    public void DetachStopsTheGradientThroughItsBranch()
    {
        var x = Tensor.FromArray(new[] { 1.5, -2.0 }).RequireGrad();
        (x * x.Detach()).Sum().Backward();
        // Only the attached operand contributes: d/dx (x * c) = c = x, not 2x.
        Approx.Equal([1.5, -2.0], x.Grad, 0, "dx");
    }

    [Fact]
    public void DetachedTensorIsALeafSharingValuesButNotTheGradientFlag()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).RequireGrad();
        var y = x * 3.0;
        var d = y.Detach();
        Assert.True(d.IsLeaf);
        Assert.False(d.RequiresGrad);
        Assert.Null(d.Grad);
        Assert.Equal(y.ToArray(), d.ToArray());
        d.AsWritableSpan()[0] = 42;
        Assert.Equal(42, y[0]);
    }

    [Fact]
    public void RequiresGradCannotBeClearedOnARecordedOutput()
    {
        var x = Tensor.FromArray(new[] { 1.0 }).RequireGrad();
        var y = x * 2.0;
        var error = Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.Contains("Detach", error.Message);
    }
}
