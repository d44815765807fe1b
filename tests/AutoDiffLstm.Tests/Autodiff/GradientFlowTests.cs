namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// Where gradients go: a value read several times receives the sum of its gradients, only tensors that require a
/// gradient receive one, and leaf gradients accumulate across backward passes until ZeroGrad.
/// </summary>
public class GradientFlowTests
{
    private static readonly double[] X = [0.5, -1.25, 2.0];

    private static Tensor<double> Leaf(params double[] values) => Tensor.FromArray(values).RequireGrad();

    [Fact]
    public void ValueMultipliedByItselfGetsBothOperandGradients()
    {
        var x = Leaf(X);
        (x * x).Sum().Backward();
        Approx.Equal(X.Select(v => 2 * v).ToArray(), x.Grad, 1e-15, "d sum(x*x)/dx");
    }

    [Fact]
    public void ValueAddedToItselfGetsGradientTwo()
    {
        var x = Leaf(X);
        (x + x).Sum().Backward();
        Approx.Equal([2, 2, 2], x.Grad, 0, "d sum(x+x)/dx");
    }

    [Fact]
    public void LeafFeedingTwoBranchesGetsTheSumOfBothBranches()
    {
        var x = Leaf(X);
        var loss = x.Tanh().Sum() + (x * 3.0).Exp().Sum();
        loss.Backward();
        var expected = X.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v) + 3 * Math.Exp(3 * v)).ToArray();
        Approx.Equal(expected, x.Grad, 1e-12, "d(sum tanh x + sum exp 3x)/dx");
    }

    [Fact]
    public void IntermediateReadTwiceCollectsBothGradientsBeforePassingThemOn()
    {
        // h = 2x is read by both operands of h*h and again by a later Sum: dL/dh = 2h + 1, so dL/dx = 2(4x + 1).
        var x = Leaf(X);
        var h = x * 2.0;
        var loss = (h * h).Sum() + h.Sum();
        loss.Backward();
        Approx.Equal(X.Select(v => 2 * (4 * v + 1)).ToArray(), x.Grad, 1e-13, "dL/dx");
    }

    [Fact]
    public void OnlyTensorsThatRequireGradientsReceiveThem()
    {
        var a = Leaf(X);
        var b = Tensor.FromArray(new[] { 3.0, 4.0, 5.0 });
        var c = Tensor.FromArray(new[] { 1.0, 1.0, 1.0 });
        (a * b + c).Sum().Backward();
        Approx.Equal([3, 4, 5], a.Grad, 0, "da");
        Assert.False(b.RequiresGrad);
        Assert.Null(b.Grad);
        Assert.Null(c.Grad);
    }

    [Fact]
    public void OperationOnTensorsThatRequireNothingIsNotRecorded()
    {
        Tape.Current.Reset();
        var a = Tensor.FromArray(X);
        var y = (a * a).Tanh().Sum();
        Assert.Equal(0, Tape.Current.Count);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("does not require a gradient", error.Message);
    }

    [Fact]
    public void LeafGradientsAccumulateAcrossBackwardPassesUntilZeroGrad()
    {
        var x = Leaf(X);
        double[] once = X.Select(v => 2 * v).ToArray();
        (x * x).Sum().Backward();
        (x * x).Sum().Backward();
        Approx.Equal(once.Select(v => 2 * v).ToArray(), x.Grad, 1e-15, "after two passes");

        x.ZeroGrad();
        Assert.Null(x.Grad);
        (x * x).Sum().Backward();
        Approx.Equal(once, x.Grad, 1e-15, "after ZeroGrad and one pass");
    }

    [Fact]
    public void BackwardFromALeafSeedsItsOwnGradient()
    {
        var x = Leaf(X);
        x.Backward(Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }));
        Approx.Equal([1, 2, 3], x.Grad, 0, "leaf gradient");
    }

    [Fact]
    public void NonScalarOutputBackpropagatesTheGivenSeed()
    {
        var x = Leaf(X);
        var seed = Tensor.FromArray(new[] { 1.0, -2.0, 0.5 });
        (x * x).Backward(seed);
        Approx.Equal(X.Select((v, i) => 2 * v * seed[i]).ToArray(), x.Grad, 1e-15, "seeded gradient");
    }
}
