using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// Jvp, Vjp, Hvp and the Gauss-Newton product record f on a private tape under <see cref="Tape.ReuseBuffers"/>: the
/// values f computes go back to the pool when the pass ends, so the next pass reuses them. What the caller gets back
/// must not be among them: each result keeps its values through later passes that reuse the pool.
/// </summary>
public class PrivatePassBufferReuseTests
{
    private sealed class LstmLoss
    {
        private readonly RecurrentLayer<double> layer = RecurrentLayer.Lstm<double>(3, 4, new Rng(21));
        private readonly string[] names;
        private readonly Tensor<double> x = Tensor.RandomNormal<double>(new Rng(22), [6, 2, 3]);

        public LstmLoss()
        {
            names = layer.NamedParameters().Select(p => p.Key).ToArray();
            Parameters = layer.NamedParameters().Select(p => p.Value).ToArray();
        }

        public Tensor<double>[] Parameters { get; }

        public Tensor<double>[] Direction(ulong seed) => Parameters.Select(p => Tensor.RandomNormal<double>(new Rng(seed), [.. p.Shape])).ToArray();

        public Tensor<double> Output(Tensor<double>[] p) =>
            layer.WithParameters(names.Select((n, k) => KeyValuePair.Create(n, p[k]))).Forward(x).Output;

        public Tensor<double> Loss(Tensor<double>[] p) => Output(p).Tanh().Sum();
    }

    private static double[][] Copy(Tensor<double>[] ts) => ts.Select(t => t.ToArray()).ToArray();

    // Another pass of each kind, with other directions: it rents the buffers the first passes gave back.
    private static void RunOtherPasses(LstmLoss f)
    {
        var u = f.Direction(99);
        Autograd.Jvp(f.Output, f.Parameters, u);
        Autograd.Vjp(f.Loss, f.Parameters, Tensor.Scalar(2.0));
        Autograd.Hvp(f.Loss, f.Parameters, u);
        Autograd.Hvp(f.Loss, f.Parameters, u, HvpMode.ForwardOverReverse);
    }

    private static void AssertUnchanged(double[][] expected, Tensor<double>[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(actual[i].IsRecycled, $"{what} {i} was recycled");
            Approx.Equal(expected[i], actual[i], 0, $"{what} {i}");
        }
    }

    [Fact]
    public void JvpOutputsAndTangentsKeepTheirValuesThroughLaterPasses()
    {
        var f = new LstmLoss();
        var (ys, ts) = Autograd.Jvp(p => [f.Output(p), f.Loss(p)], f.Parameters, f.Direction(1));
        var (ysCopy, tsCopy) = (Copy(ys), Copy(ts));
        RunOtherPasses(f);
        AssertUnchanged(ysCopy, ys, "output");
        AssertUnchanged(tsCopy, ts, "tangent");
    }

    [Fact]
    public void VjpValueAndCotangentsKeepTheirValuesThroughLaterPasses()
    {
        var f = new LstmLoss();
        var (y, gs) = Autograd.Vjp(f.Loss, f.Parameters, Tensor.Scalar(1.0));
        var (yCopy, gsCopy) = (Copy([y]), Copy(gs));
        RunOtherPasses(f);
        AssertUnchanged(yCopy, [y], "value");
        AssertUnchanged(gsCopy, gs, "cotangent");
    }

    [Theory]
    [InlineData(HvpMode.ReverseOverReverse)]
    [InlineData(HvpMode.ForwardOverReverse)]
    public void HvpResultsKeepTheirValuesThroughLaterPasses(HvpMode mode)
    {
        var f = new LstmLoss();
        var hv = Autograd.Hvp(f.Loss, f.Parameters, f.Direction(3), mode);
        var copy = Copy(hv);
        RunOtherPasses(f);
        AssertUnchanged(copy, hv, "H v");
    }

    [Fact]
    public void GaussNewtonProductKeepsItsValuesThroughLaterPasses()
    {
        var f = new LstmLoss();
        var target = Tensor.RandomNormal<double>(new Rng(4), [6, 2, 4]);
        var gv = Autograd.GaussNewtonVectorProduct(f.Output, f.Parameters, GaussNewtonLoss<double>.MeanSquaredError(target), f.Direction(5));
        var copy = Copy(gv);
        RunOtherPasses(f);
        AssertUnchanged(copy, gv, "G v");
    }

    [Fact]
    public void ASteadyStateVjpRentsTheValuesOfThePreviousOne()
    {
        // Without the reuse scope every recorded value is a fresh array (the recorded forward's activation bytes);
        // with it, the second pass takes them from the pool and allocates far less than they occupy.
        var layer = RecurrentLayer.Lstm<double>(16, 16, new Rng(23));
        var names = layer.NamedParameters().Select(p => p.Key).ToArray();
        var theta = layer.NamedParameters().Select(p => p.Value).ToArray();
        var x = Tensor.RandomNormal<double>(new Rng(24), [50, 4, 16]);
        Tensor<double> Loss(Tensor<double>[] p) => layer.WithParameters(names.Select((n, k) => KeyValuePair.Create(n, p[k]))).Forward(x).Output.Sum();
        long activations;
        using (Tape.UsePrivateTape())
        {
            Loss(theta);
            activations = Tape.Current.ActivationBytes();
            Tape.Current.Reset();
        }
        Autograd.Vjp(Loss, theta, Tensor.Scalar(1.0));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Autograd.Vjp(Loss, theta, Tensor.Scalar(1.0));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < activations / 4, $"a steady-state Vjp allocated {allocated:N0} bytes; its recorded values occupy {activations:N0}");
    }
}
