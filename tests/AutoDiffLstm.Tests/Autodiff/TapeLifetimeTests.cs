namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// The tape is consumed by Backward unless retainGraph is passed, and Tape.Reset forgets everything: differentiating
/// through a forgotten operation must fail loudly, never silently drop part of the gradient.
/// </summary>
public class TapeLifetimeTests
{
    private static readonly double[] X = [0.3, -0.7, 1.1];

    private static (Tensor<double> X, Tensor<double> Loss) SquareSum()
    {
        var x = Tensor.FromArray(X).RequireGrad();
        return (x, (x * x).Sum());
    }

    private static void AssertFreedTapeError(Exception error)
    {
        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("freed", error.Message);
        Assert.Contains("retainGraph", error.Message);
    }

    [Fact]
    public void OperationsAreRecordedInExecutionOrder()
    {
        Tape.Current.Reset();
        var x = Tensor.FromArray(X).RequireGrad();
        var y = (x.Tanh() * x).Exp().Sum();
        Assert.Equal(["Tanh", "Multiply", "Exp", "Sum"], Tape.Current.OperationNames());
        Assert.Equal(4, Tape.Current.Count);
        y.Backward();
        Assert.Equal(0, Tape.Current.Count);
    }

    [Fact]
    public void SecondBackwardOverAFreedTapeThrowsAClearError()
    {
        var (_, loss) = SquareSum();
        loss.Backward();
        AssertFreedTapeError(Record.Exception(() => loss.Backward()));
    }

    [Fact]
    public void RetainGraphAllowsASecondBackwardThatDoublesTheGradients()
    {
        var (x, loss) = SquareSum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Approx.Equal(X.Select(v => 4 * v).ToArray(), x.Grad, 1e-15, "dx after two passes");
        AssertFreedTapeError(Record.Exception(() => loss.Backward()));
    }

    [Fact]
    public void RetainedIntermediateAccumulatesAcrossRetainedPassesWithoutInflatingItsInputs()
    {
        // h = tanh(x), L = sum(3h). Each pass sends dL/dh = 3 and dL/dx = 3(1 - h^2); two passes double both, as in
        // PyTorch. The second pass must propagate only its own dL/dh, not the one kept from the first pass.
        var x = Tensor.FromArray(X).RequireGrad();
        var h = x.Tanh().RetainGrad();
        var loss = (h * 3.0).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward(retainGraph: true);
        Approx.Equal([6, 6, 6], h.Grad, 1e-15, "dL/dh after two passes");
        Approx.Equal(X.Select(v => 6 * (1 - Math.Tanh(v) * Math.Tanh(v))).ToArray(), x.Grad, 1e-15, "dL/dx after two passes");
    }

    [Fact]
    public void RetainedGradientOfAnEarlierPassDoesNotLeakIntoAPassThatDoesNotReachIt()
    {
        // Two losses on one retained tape: only the first depends on h. Backward from the second must not push h's
        // stale gradient into x again.
        var x = Tensor.FromArray(X).RequireGrad();
        var h = x.Tanh().RetainGrad();
        var first = h.Sum();
        var second = (x * 2.0).Sum();
        first.Backward(retainGraph: true);
        var afterFirst = x.Grad!.ToArray();
        second.Backward(retainGraph: true);
        Approx.Equal(afterFirst.Select(v => v + 2).ToArray(), x.Grad, 1e-15, "dx after both losses");
        Approx.Equal([1, 1, 1], h.Grad, 0, "dL/dh");
    }

    [Fact]
    public void ResetMakesTensorsRecordedBeforeItNonDifferentiable()
    {
        var (_, loss) = SquareSum();
        Tape.Current.Reset();
        AssertFreedTapeError(Record.Exception(() => loss.Backward()));
    }

    [Fact]
    public void ContinuingFromATensorRecordedBeforeResetFailsInsteadOfDroppingItsGradient()
    {
        // The old tape that linked h to x is gone: backward cannot reach x, so it must say so rather than return a
        // gradient that silently stops at h (Detach is the explicit way to cut a graph).
        var x = Tensor.FromArray(X).RequireGrad();
        var h = x.Tanh();
        Tape.Current.Reset();
        var loss = (h * 2.0).Sum();
        AssertFreedTapeError(Record.Exception(() => loss.Backward()));

        // The explicit cut works.
        var cut = (h.Detach() * x).Sum();
        cut.Backward();
        Approx.Equal(X.Select(Math.Tanh).ToArray(), x.Grad, 1e-15, "dx through the detached branch");
    }

    [Fact]
    public void EachThreadRecordsOnItsOwnTape()
    {
        Tape.Current.Reset();
        var x = Tensor.FromArray(X).RequireGrad();
        var here = (x * x).Sum();
        int workerCount = -1;
        double[]? workerGrad = null;
        var worker = new Thread(() =>
        {
            var y = Tensor.FromArray(X).RequireGrad();
            var loss = y.Tanh().Sum();
            workerCount = Tape.Current.Count;
            loss.Backward();
            workerGrad = y.Grad!.ToArray();
        });
        worker.Start();
        worker.Join();
        Assert.Equal(2, workerCount);
        Approx.Equal(X.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray(), workerGrad!, 1e-15, "worker dy");
        Assert.Equal(2, Tape.Current.Count);
        here.Backward();
        Approx.Equal(X.Select(v => 2 * v).ToArray(), x.Grad, 1e-15, "dx");
    }

    [Fact]
    public void BackwardWithoutSeedOnANonScalarNamesTheShape()
    {
        var x = Tensor.FromArray(new double[6], 2, 3).RequireGrad();
        var error = Assert.Throws<InvalidOperationException>(() => (x * 2.0).Backward());
        Assert.Contains("Backward", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void SeedOfTheWrongShapeNamesBothShapes()
    {
        var x = Tensor.FromArray(new double[6], 2, 3).RequireGrad();
        var error = Assert.Throws<ArgumentException>(() => (x * 2.0).Backward(Tensor.Zeros<double>(3, 2)));
        Assert.Contains("Backward", error.Message);
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[3, 2]", error.Message);
    }
}
