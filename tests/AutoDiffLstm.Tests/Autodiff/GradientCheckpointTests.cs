namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// GradientCheckpoint.Run records only a segment's outputs and recomputes the segment in backward: the gradients of its
/// inputs, of the parameters it captures and of captured intermediates of the caller's graph are the same bits as
/// without checkpointing, and misuse (a non-deterministic segment, parameters created inside it) fails loudly.
/// </summary>
public class GradientCheckpointTests
{
    private static readonly Tensor<double> W0 = Tensor.RandomNormal<double>(new Rng(1), [3, 3], std: 0.6);
    private static readonly Tensor<double> B0 = Tensor.RandomNormal<double>(new Rng(2), [3]);
    private static readonly Tensor<double> X0 = Tensor.RandomNormal<double>(new Rng(3), [2, 3]);
    private static readonly Tensor<double> H0 = Tensor.RandomNormal<double>(new Rng(4), [2, 3]);

    /// <summary>Three recurrent-looking steps reading inputs x, h and capturing w, b; returns (h, sigmoid(h)).</summary>
    private static Tensor<double>[] Steps(Tensor<double> x, Tensor<double> h, Tensor<double> w, Tensor<double> b)
    {
        for (int s = 0; s < 3; s++) h = (x.Linear(w, b) + h.Linear(w)).Tanh() * h + x;
        return [h, h.Sigmoid()];
    }

    private sealed record Leaves(Tensor<double> X, Tensor<double> H, Tensor<double> W, Tensor<double> B)
    {
        public static Leaves Fresh() => new(X0.Clone().RequireGrad(), H0.Clone().RequireGrad(), W0.Clone().RequireGrad(), B0.Clone().RequireGrad());

        public double[][] Grads() => [X.Grad!.ToArray(), H.Grad!.ToArray(), W.Grad!.ToArray(), B.Grad!.ToArray()];
    }

    /// <summary>A loss that weights every output differently and reads output 0 again after the segment.</summary>
    private static Tensor<double> Loss(Tensor<double>[] outputs) =>
        (outputs[0] * outputs[0]).Sum() + (outputs[1] * Tensor.Arange<double>(6).Reshape(2, 3)).Sum() + outputs[0].Exp().Sum();

    private static void SameBits(double[][] expected, double[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++) Recurrent.CheckpointRuns.BitIdentical(expected[k], actual[k], $"gradient {k}");
    }

    [Fact]
    public void GradientsOfInputsAndCapturedParametersAreBitIdentical()
    {
        Tape.Current.Reset();
        var direct = Leaves.Fresh();
        var y = Steps(direct.X, direct.H, direct.W, direct.B);
        Loss(y).Backward();

        var ckpt = Leaves.Fresh();
        var z = GradientCheckpoint.Run(xs => Steps(xs[0], xs[1], ckpt.W, ckpt.B), ckpt.X, ckpt.H);
        Recurrent.CheckpointRuns.BitIdentical(y[0].ToArray(), z[0].ToArray(), "output 0");
        Recurrent.CheckpointRuns.BitIdentical(y[1].ToArray(), z[1].ToArray(), "output 1");
        Loss(z).Backward();
        SameBits(direct.Grads(), ckpt.Grads());
    }

    /// <summary>
    /// Under Tape.ReuseBuffers the segment's intermediates are dead once it returns (backward recomputes them), so their
    /// storage goes back to the pool at once; the outputs handed out stay valid until the caller's reset, which then
    /// recycles them like any other recorded output; and the gradients are the plain run's bits.
    /// </summary>
    [Fact]
    public void UnderReuseTheSegmentsIntermediatesAreRecycledAtOnceAndItsOutputsAtTheCallersReset()
    {
        Tape.Current.Reset();
        var direct = Leaves.Fresh();
        Loss(Steps(direct.X, direct.H, direct.W, direct.B)).Backward();

        var ckpt = Leaves.Fresh();
        TensorBase[]? intermediates = null;
        GradientCheckpoint.SegmentTapeObserver = t => intermediates ??= t.Operations().Select(o => o.Output).ToArray();
        try
        {
            using var reuse = Tape.ReuseBuffers();
            var z = GradientCheckpoint.Run(xs => Steps(xs[0], xs[1], ckpt.W, ckpt.B), ckpt.X, ckpt.H);
            Assert.NotNull(intermediates);
            Assert.True(intermediates!.Length > 10, $"the segment recorded {intermediates.Length} operations");
            // Only the two outputs' storage survives, handed over to the tensors Run returned.
            var kept = intermediates.Where(t => !t.IsRecycled).Cast<Tensor<double>>().ToArray();
            Assert.Equal(2, kept.Length);
            Assert.Equal(z.Select(o => o.ToArray()), kept.Select(t => t.ToArray()));
            Assert.All(z, o => Assert.False(o.IsRecycled));
            Loss(z).Backward();
            Assert.All(z, o => Assert.True(o.IsRecycled, "a segment output kept its storage after the caller's reset"));
        }
        finally { GradientCheckpoint.SegmentTapeObserver = null; }
        SameBits(direct.Grads(), ckpt.Grads());
    }

    /// <summary>
    /// A batch-1 segment called outside any unroll: forward multiplies its single rows without a kept operand, the
    /// recomputation inside backward with one (backward keeps packed parameters); the products must give the same bits
    /// either way, or the recomputation check throws.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SegmentsOfOneOrTwoRowProductsRecomputeTheSameBits(int rows)
    {
        Tape.Current.Reset();
        // Width 40: long enough dot products that a different order of the sums would show in the bits.
        Leaves Few() => new(Tensor.RandomNormal<double>(new Rng(5), [rows, 40]).RequireGrad(), Tensor.RandomNormal<double>(new Rng(6), [rows, 40]).RequireGrad(),
            Tensor.RandomNormal<double>(new Rng(7), [40, 40], std: 0.15).RequireGrad(), Tensor.RandomNormal<double>(new Rng(8), [40]).RequireGrad());
        var direct = Few();
        Loss2(Steps(direct.X, direct.H, direct.W, direct.B)).Backward();
        var ckpt = Few();
        Loss2(GradientCheckpoint.Run(xs => Steps(xs[0], xs[1], ckpt.W, ckpt.B), ckpt.X, ckpt.H)).Backward();
        SameBits(direct.Grads(), ckpt.Grads());

        static Tensor<double> Loss2(Tensor<double>[] outputs) => (outputs[0] * outputs[0]).Sum() + outputs[1].Exp().Sum();
    }

    [Fact]
    public void FloatGradientsAreBitIdenticalToo()
    {
        Tape.Current.Reset();
        Tensor<float> F(Tensor<double> t) => Tensor.FromArray(t.ToArray().Select(v => (float)v).ToArray(), [.. t.Shape]).RequireGrad();
        var (x1, w1) = (F(X0), F(W0));
        var (x2, w2) = (F(X0), F(W0));
        (x1.Linear(w1).Tanh() * x1).Sum().Backward();
        GradientCheckpoint.Run(xs => xs[0].Linear(w2).Tanh() * xs[0], x2).Sum().Backward();
        Assert.Equal(x1.Grad!.ToArray(), x2.Grad!.ToArray());
        Assert.Equal(w1.Grad!.ToArray(), w2.Grad!.ToArray());
    }

    [Fact]
    public void OnlyTheOutputsAreRecorded()
    {
        Tape.Current.Reset();
        var l = Leaves.Fresh();
        var outputs = GradientCheckpoint.Run(xs => Steps(xs[0], xs[1], l.W, l.B), l.X, l.H);
        Assert.Equal(["Checkpoint", "CheckpointOutput", "CheckpointOutput"], Tape.Current.OperationNames());
        Assert.All(outputs, o => Assert.True(o.RequiresGrad && !o.IsLeaf));
        Tape.Current.Reset();
    }

    [Fact]
    public void RepeatedAndPassedThroughOutputsGetTheirGradientOnce()
    {
        Tape.Current.Reset();
        var direct = Leaves.Fresh();
        var y = (direct.X * direct.H).Tanh();
        ((y * 2).Sum() + (y * y).Sum() + (direct.X * 3).Sum()).Backward();

        var ckpt = Leaves.Fresh();
        var outputs = GradientCheckpoint.Run(xs => { var t = (xs[0] * xs[1]).Tanh(); return [t, t, xs[0]]; }, ckpt.X, ckpt.H);
        Assert.Same(outputs[0], outputs[1]); // the same tensor comes back as the same tensor
        ((outputs[0] * 2).Sum() + (outputs[1] * outputs[1]).Sum() + (outputs[2] * 3).Sum()).Backward();
        SameBits([direct.X.Grad!.ToArray(), direct.H.Grad!.ToArray()], [ckpt.X.Grad!.ToArray(), ckpt.H.Grad!.ToArray()]);
    }

    [Fact]
    public void AnInputGivenTwiceIsCountedOnce()
    {
        Tape.Current.Reset();
        var a = X0.Clone().RequireGrad();
        (a.Linear(W0) * a.Tanh()).Sum().Backward();
        var b = X0.Clone().RequireGrad();
        GradientCheckpoint.Run(xs => xs[0].Linear(W0) * xs[1].Tanh(), b, b).Sum().Backward();
        Recurrent.CheckpointRuns.BitIdentical(a.Grad!.ToArray(), b.Grad!.ToArray(), "dL/dx");
    }

    [Fact]
    public void CapturedIntermediatesOfTheCallersGraphPassTheirGradientOn()
    {
        // z is not a leaf: the segment's share of dL/dz must reach a through z's own backward rule, after the segment's.
        Tape.Current.Reset();
        var a1 = X0.Clone().RequireGrad();
        var z1 = (a1 * 3).Exp();
        ((a1.Tanh() * z1).Sum() + z1.Sum()).Backward();

        var a2 = X0.Clone().RequireGrad();
        var z2 = (a2 * 3).Exp();
        var y = GradientCheckpoint.Run(xs => xs[0].Tanh() * z2, a2);
        (y.Sum() + z2.Sum()).Backward();
        Recurrent.CheckpointRuns.BitIdentical(a1.Grad!.ToArray(), a2.Grad!.ToArray(), "dL/da");
    }

    [Fact]
    public void AnInputTheSegmentAlsoCapturesGetsBothContributions()
    {
        // dL/da = sum over both uses; they are added in another order than without checkpointing, so compare to rounding.
        Tape.Current.Reset();
        var a1 = X0.Clone().RequireGrad();
        (a1.Tanh() * a1.Exp()).Sum().Backward();
        var a2 = X0.Clone().RequireGrad();
        GradientCheckpoint.Run(xs => xs[0].Tanh() * a2.Exp(), a2).Sum().Backward();
        Approx.Equal(a1.Grad!.ToArray(), a2.Grad, 1e-14, "dL/da");
    }

    [Fact]
    public void OutputsWithoutGradientLeaveTheirParametersGradientNull()
    {
        Tape.Current.Reset();
        var (w, v) = (W0.Clone().RequireGrad(), W0.Clone().RequireGrad());
        var outputs = GradientCheckpoint.Run(xs => [xs[0].Linear(w), xs[0].Linear(v)], X0);
        outputs[0].Sum().Backward();
        Assert.NotNull(w.Grad);
        Assert.Null(v.Grad); // as without checkpointing: nothing flowed into the second output
    }

    [Fact]
    public void SegmentsNest()
    {
        Tape.Current.Reset();
        var direct = Leaves.Fresh();
        Loss(Steps(Steps(direct.X, direct.H, direct.W, direct.B)[0], direct.H, direct.W, direct.B)).Backward();

        var ckpt = Leaves.Fresh();
        var outputs = GradientCheckpoint.Run(xs =>
        {
            var inner = GradientCheckpoint.Run(ys => Steps(ys[0], ys[1], ckpt.W, ckpt.B), xs[0], xs[1]);
            return Steps(inner[0], xs[1], ckpt.W, ckpt.B);
        }, ckpt.X, ckpt.H);
        Loss(outputs).Backward();
        SameBits(direct.Grads(), ckpt.Grads());
    }

    [Fact]
    public void ARetainedGraphCanBeDifferentiatedTwice()
    {
        Tape.Current.Reset();
        var direct = Leaves.Fresh();
        var l1 = Loss(Steps(direct.X, direct.H, direct.W, direct.B));
        l1.Backward(retainGraph: true);
        l1.Backward();

        var ckpt = Leaves.Fresh();
        var l2 = Loss(GradientCheckpoint.Run(xs => Steps(xs[0], xs[1], ckpt.W, ckpt.B), ckpt.X, ckpt.H));
        l2.Backward(retainGraph: true);
        l2.Backward();
        SameBits(direct.Grads(), ckpt.Grads());
    }

    [Fact]
    public void UnderNoGradTheSegmentSimplyRuns()
    {
        Tape.Current.Reset();
        var l = Leaves.Fresh();
        using (Autograd.NoGrad())
        {
            var outputs = GradientCheckpoint.Run(xs => Steps(xs[0], xs[1], l.W, l.B), l.X, l.H);
            Assert.Equal(Steps(X0, H0, W0, B0)[0].ToArray(), outputs[0].ToArray());
        }
        Assert.Equal(0, Tape.Current.Count);
    }

    [Fact]
    public void IsRecomputingIsTrueOnlyWhileBackwardRunsTheSegmentAgain()
    {
        Tape.Current.Reset();
        var seen = new List<bool>();
        var x = X0.Clone().RequireGrad();
        var y = GradientCheckpoint.Run(xs => { seen.Add(GradientCheckpoint.IsRecomputing); return xs[0].Tanh(); }, x);
        y.Sum().Backward();
        Assert.Equal([false, true], seen);
        Assert.False(GradientCheckpoint.IsRecomputing);
    }

    [Fact]
    public void ANonDeterministicSegmentFailsInBackward()
    {
        Tape.Current.Reset();
        int calls = 0;
        var x = X0.Clone().RequireGrad();
        var y = GradientCheckpoint.Run(xs => xs[0] * (++calls), x);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("GradientCheckpoint", e.Message);
        Assert.Contains("different values", e.Message);
        Assert.Contains("deterministic", e.Message);
    }

    [Fact]
    public void AParameterCreatedInsideTheSegmentFailsInBackward()
    {
        Tape.Current.Reset();
        var x = X0.Clone().RequireGrad();
        var y = GradientCheckpoint.Run(xs => xs[0] * Tensor.Ones<double>(2, 3).RequireGrad(), x);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("did not read in forward", e.Message);
    }

    [Fact]
    public void ASegmentThatResetsTheTapeIsRejected()
    {
        Tape.Current.Reset();
        var x = X0.Clone().RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => GradientCheckpoint.Run(xs => { Tape.Current.Reset(); return xs[0].Tanh(); }, x));
        Assert.Contains("Tape.Reset", e.Message);
    }

    [Fact]
    public void NullOutputsAndInputsAreRejected()
    {
        var x = X0.Clone().RequireGrad();
        Assert.Contains("output 1", Assert.Throws<InvalidOperationException>(() => GradientCheckpoint.Run(xs => [xs[0].Tanh(), null!], x)).Message);
        Assert.Contains("input 1", Assert.Throws<ArgumentNullException>(() => GradientCheckpoint.Run(xs => xs[0], x, null!)).Message);
        Tape.Current.Reset();
    }

    [Fact]
    public void GradCheckOfACheckpointedFunctionPassesAndSparesTheCapturedParameter()
    {
        var w = W0.Clone().RequireGrad();
        var b = B0.Clone().RequireGrad();
        var report = GradCheck.Check<double>(xs => Loss(GradientCheckpoint.Run(ys => Steps(ys[0], ys[1], w, b), xs[0], xs[1])), [X0, H0]);
        Assert.True(report.Passed, report.ToString());
        // GradCheck must not leave gradients in tensors it does not check, also when a segment writes them in backward.
        Assert.Null(w.Grad);
        Assert.Null(b.Grad);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 2)]
    [InlineData(5, 3)]
    [InlineData(10_000, 100)]
    [InlineData(10_001, 101)]
    public void SegmentLengthIsTheCeilingOfTheSquareRoot(int steps, int expected) => Assert.Equal(expected, GradientCheckpoint.SegmentLength(steps));

    [Fact]
    public void SegmentLengthRejectsNonPositiveSteps() =>
        Assert.Contains("positive", Assert.Throws<ArgumentOutOfRangeException>(() => GradientCheckpoint.SegmentLength(0)).Message);
}
