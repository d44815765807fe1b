namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>User-defined primitives: recorded like built-ins, their own rules used, checked and refused when wrong.</summary>
public class CustomPrimitiveTests
{
    /// <summary>The README's straight-through estimator: forward rounds, backward passes the gradient through.</summary>
    private static readonly CustomPrimitive<double> RoundSte = new("RoundSte",
        forward: x => x[0].Map(Math.Round),
        vjp: (x, y, g) => [g],
        jvp: (x, y, t) => t[0]!);

    /// <summary>The README's gradient-clipping identity: forward is the identity, backward rescales g to norm at most 1.</summary>
    private static readonly CustomPrimitive<double> ClipGradient = new("ClipGradient",
        forward: x => x[0],
        vjp: (x, y, g) =>
        {
            double norm = Math.Sqrt(g.Square().Sum().Item());
            return [norm > 1 ? g * (1 / norm) : g];
        });

    [Fact]
    public void StraightThroughEstimatorRoundsForwardAndPassesTheGradient()
    {
        var w = Tensor.FromArray([0.4, 1.6, -2.3], 3).RequireGrad();
        var y = RoundSte.Apply(w);
        Assert.Equal([0.0, 2.0, -2.0], y.ToArray());
        Assert.Equal(["RoundSte", "Square", "Sum"], RecordAndList(() => y.Square().Sum()));
        (RoundSte.Apply(w) * Tensor.FromArray([1.0, 2.0, 3.0], 3)).Sum().Backward();
        Assert.Equal([1.0, 2.0, 3.0], w.Grad!.ToArray());
    }

    private static IReadOnlyList<string> RecordAndList(Func<Tensor<double>> f)
    {
        f();
        var names = Tape.Current.OperationNames();
        Tape.Current.Reset();
        return names;
    }

    [Fact]
    public void GradientClippingIdentityLeavesValuesAndClipsTheGradient()
    {
        var x = Tensor.FromArray([1.0, 2.0], 2).RequireGrad();
        var y = ClipGradient.Apply(x);
        Assert.Equal(x.ToArray(), y.ToArray());
        Assert.NotSame(x, y);
        (y * 10.0).Sum().Backward(); // g = (10, 10), norm 14.1 -> clipped to norm 1
        Assert.Equal(1.0, Math.Sqrt(x.Grad!.Square().Sum().Item()), 14);
        Assert.Equal(x.Grad![0], x.Grad![1]);
    }

    [Fact]
    public void ACustomPrimitiveInsideACellTrains()
    {
        // h' = clip_grad(tanh(W h + x)) inside a recurrence: the rule runs at every step of the unrolled backward pass.
        var w = Tensor.RandomNormal<double>(new Rng(1), [3, 3], std: 2).RequireGrad();
        var h = Tensor.Zeros<double>(1, 3);
        for (int t = 0; t < 20; t++) h = ClipGradient.Apply((h.Linear(w) + 1.0).Tanh());
        h.Sum().Backward();
        Assert.True(double.IsFinite(w.Grad!.Square().Sum().Item()));
    }

    [Fact]
    public void GradCheckCatchesAWrongRuleAndPassesARightOne()
    {
        var x = Tensor.FromArray([0.3, -0.8], 2);
        var right = new CustomPrimitive<double>("Cube", x => x[0].Map(v => v * v * v), (x, y, g) => [g * x[0].Square() * 3.0], (x, y, t) => t[0]! * x[0].Square() * 3.0);
        var wrong = new CustomPrimitive<double>("BadCube", x => x[0].Map(v => v * v * v), (x, y, g) => [g * x[0].Square() * 2.0], (x, y, t) => t[0]! * x[0].Square() * 3.0);
        Assert.True(GradCheck.Check<double>(p => right.Apply(p), x).Passed);
        Assert.True(GradCheck.CheckJvp<double>(p => right.Apply(p[0]), [x]).Passed);
        Assert.True(GradCheck.CheckSecondOrder<double>(p => right.Apply(p[0]), [x]).Passed);
        Assert.False(GradCheck.Check<double>(p => wrong.Apply(p), x).Passed);
        Assert.False(GradCheck.CheckJvp<double>(p => wrong.Apply(p[0]), [x]).Passed); // JVP disagrees with the VJP
    }

    [Fact]
    public void AVjpOfTheWrongShapeOrCountIsAClearError()
    {
        var badShape = new CustomPrimitive<double>("BadShape", x => x[0].Map(v => v), (x, y, g) => [g.Sum()]);
        var x = Tensor.FromArray([1.0, 2.0], 2).RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => badShape.Apply(x).Sum().Backward());
        Assert.Contains("BadShape: the VJP rule returned a gradient of shape [] for input 0 of shape [2]", e.Message);
        var badCount = new CustomPrimitive<double>("BadCount", x => x[0].Map(v => v), (x, y, g) => [g, g]);
        var c = Assert.Throws<InvalidOperationException>(() => badCount.Apply(x).Sum().Backward());
        Assert.Contains("BadCount: the VJP rule returned 2 gradients for 1 inputs", c.Message);
    }

    [Fact]
    public void WithoutAJvpRuleForwardModeRefusesByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => Autograd.Jvp(p => ClipGradient.Apply(p[0]), [Tensor.Ones<double>(2)], [Tensor.Ones<double>(2)]));
        Assert.Contains("ClipGradient: this custom primitive has no JVP rule", e.Message);
    }
}
