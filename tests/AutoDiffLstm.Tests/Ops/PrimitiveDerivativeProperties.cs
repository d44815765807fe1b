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
