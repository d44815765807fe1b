using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// Forward mode and second derivatives of every primitive in the catalogue, in double, as FsCheck properties over the
/// same random shapes, broadcasts and value regimes as the reverse-mode properties (shrinking to the smallest failing
/// case): the JVP against central differences and against the VJP (the dot-product test), and the Hessian-vector
/// product by both modes against central differences of the gradient, which covers grad-of-grad of every rule.
/// Checkpointed segments have neither (they keep no intermediates) and must say so.
/// </summary>
public class PrimitiveDerivativeProperties
{
    private const int CasesPerPrimitive = 30;

    public static IEnumerable<object[]> Differentiable =>
        PrimitiveSpecs.Names.Where(n => !((string)n[0]).StartsWith("Checkpoint", StringComparison.Ordinal));

    /// <summary>
    /// LogScan's shares are defined wherever h_t &gt; 0, including from h0 = 0 (log h0 = -inf, minGRU's start): there its
    /// tangent is that of a negligible h0. A state that is exactly zero (log h_t = -inf) is refused by name.
    /// </summary>
    [Fact]
    public void LogScanForwardModeStartsFromAZeroStateAndRefusesAZeroStateLater()
    {
        var logA = Tensor.FromArray([-0.1, -2, -0.3, -0.7, -1.2, -0.05], 3, 2);
        var logB = Tensor.FromArray([0.2, -1, 0.5, -0.4, 1.1, 0.3], 3, 2);
        var v = Tensor.FromArray([1.0, -0.5, 0.25, 2, -1, 0.5], 3, 2);
        var (y, fromZero) = Autograd.Jvp(x => Tensor.LogScan(logA, x[0], Tensor.Full(double.NegativeInfinity, 2)), [logB], [v]);
        var (_, fromTiny) = Autograd.Jvp(x => Tensor.LogScan(logA, x[0], Tensor.Full(-1000.0, 2)), [logB], [v]);
        Assert.All(y.ToArray(), t => Assert.True(double.IsFinite(t)));
        Approx.Equal(fromTiny.ToArray(), fromZero, 1e-14, "LogScan tangent from h0 = 0");

        var zeroAtStart = Tensor.Full(double.NegativeInfinity, 3, 2);
        var e = Assert.Throws<NotSupportedException>(() => Autograd.Jvp(x => Tensor.LogScan(x[0], zeroAtStart, Tensor.Full(double.NegativeInfinity, 2)), [logA], [v]));
        Assert.StartsWith("LogScan: log h is -inf (h = 0) at step 0", e.Message);
    }

    [Theory]
    [MemberData(nameof(Differentiable))]
    public void JvpMatchesCentralDifferencesAndTheVjp(string primitive)
    {
        var spec = PrimitiveSpecs.Get<double>(primitive);
        Prop.ForAll(PrimitiveCases.For(spec), c => PrimitiveGradientProperties.Guarded(spec.Name, c, () =>
            {
                var options = new GradCheckOptions { Step = spec.Regimes[c.Draw.Regime].Step, Seed = PrimitiveGradientProperties.SeedOf(c), Directions = 2 };
                var report = GradCheck.CheckJvp<double>(x => spec.Apply(c, x), PrimitiveGradientProperties.Inputs<double>(c), options);
                return (report.Passed, $"{spec.Name} JVP on {c.Shapes}: {report}");
            }))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(CasesPerPrimitive));
    }

    [Theory]
    [MemberData(nameof(Differentiable))]
    public void HessianVectorProductsMatchDifferencesOfGradients(string primitive)
    {
        var spec = PrimitiveSpecs.Get<double>(primitive);
        Prop.ForAll(PrimitiveCases.For(spec), c => PrimitiveGradientProperties.Guarded(spec.Name, c, () =>
            {
                // Differences of gradients lose one more order to rounding than differences of values: 1e-5 keeps
                // both that (1e-16 |g| / h) and the truncation (h^2 |f'''|) near 1e-10 on the catalogue's ranges.
                double step = Math.Max(spec.Regimes[c.Draw.Regime].Step, 1e-5);
                var options = new GradCheckOptions { Step = step, Seed = PrimitiveGradientProperties.SeedOf(c), Directions = 2 };
                var report = GradCheck.CheckSecondOrder<double>(x => spec.Apply(c, x), PrimitiveGradientProperties.Inputs<double>(c), options);
                return (report.Passed, $"{spec.Name} HVP on {c.Shapes}: {report}");
            }))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(CasesPerPrimitive));
    }

    [Theory]
    [InlineData("Checkpoint")]
    [InlineData("CheckpointOutput")]
    public void CheckpointedSegmentsRefuseForwardModeAndSecondOrderClearly(string primitive)
    {
        var spec = PrimitiveSpecs.Get<double>(primitive);
        var c = PrimitiveCases.For(spec).Generator.Sample(1).Single();
        var x = PrimitiveGradientProperties.Inputs<double>(c);
        var jvp = Assert.Throws<NotSupportedException>(() => Autograd.Jvp(xs => spec.Apply(c, xs), x, x.Select(t => t.Clone()).ToArray()));
        Assert.Contains("gradient-checkpointed segment", jvp.Message);
        var hvp = Assert.Throws<NotSupportedException>(() => Autograd.Hvp(xs => spec.Apply(c, xs).Sum(), x, x.Select(t => t.Clone()).ToArray()));
        Assert.Contains("gradient-checkpointed segment", hvp.Message);
    }
}
