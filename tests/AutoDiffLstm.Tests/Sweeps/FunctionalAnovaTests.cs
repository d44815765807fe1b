using AutoDiffLstm.Experiments.Sweeps;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>
/// Functional ANOVA over a random forest against functions whose variance decomposition is known in closed form (inputs
/// independent and uniform on the domain), plus determinism and the refusals.
/// </summary>
public sealed class FunctionalAnovaTests
{
    private static readonly ForestFeature[] ThreeNumbers =
        [ForestFeature.Numeric("x1", 0, 1), ForestFeature.Numeric("x2", 0, 1), ForestFeature.Numeric("x3", 0, 1)];

    /// <summary>Points uniform on the domain (categorical features uniform over their levels) and f at each.</summary>
    private static (double[][] X, double[] Y) Sample(IReadOnlyList<ForestFeature> features, int n, Func<double[], double> f, ulong seed = 7)
    {
        var rng = new Rng(seed);
        var x = Enumerable.Range(0, n).Select(_ => features.Select(ft => ft.IsCategorical ? rng.NextInt(ft.Levels) : rng.NextDouble(ft.Low, ft.High)).ToArray()).ToArray();
        return (x, x.Select(f).ToArray());
    }

    private static double Share(AnovaResult r, string name) => r.Main.Single(e => e.Name == name).Fraction;

    [Fact]
    public void AnAdditiveFunctionSplitsItsVarianceAsTheCoefficientsSquared()
    {
        // f = 5 x1 + x2 + 0 x3 with x ~ U(0,1): Var = 25/12 + 1/12, so the shares are 25/26, 1/26 and 0, and no pair interacts.
        ForestFeature[] features = [ThreeNumbers[0], ThreeNumbers[1], ForestFeature.Categorical("x3", ["a", "b", "c"])];
        var (x, y) = Sample(features, 400, p => 5 * p[0] + p[1] + 0 * p[2]);
        var r = FunctionalAnova.Decompose(features, x, y);
        Assert.Equal(["x1", "x2", "x3"], r.Main.Select(e => e.Name));
        Assert.InRange(Share(r, "x1"), 25.0 / 26 - 0.02, 25.0 / 26 + 0.02);
        Assert.InRange(Share(r, "x2"), 1.0 / 26 - 0.012, 1.0 / 26 + 0.012);
        Assert.InRange(Share(r, "x3"), 0, 0.005);
        Assert.All(r.Pairs, p => Assert.InRange(p.Fraction, 0, 0.01));
        Assert.InRange(r.Main.Sum(e => e.Fraction) + r.Pairs.Sum(e => e.Fraction), 0.98, 1.0 + 1e-9);
        Assert.Equal(64, r.Trees);
        Assert.True(r.Main[0].Spread is > 0 and < 0.05, $"spread of x1's share over trees: {r.Main[0].Spread}");
    }

    [Fact]
    public void TheDomainNotTheDataDecidesTheShares()
    {
        // The same additive function with x1 drawn mostly near 0 (x1 = u^3): the ANOVA integrates over the uniform domain,
        // so the shares stay 25/26 and 1/26; the variance of the data would give x1 far less (Var(5 u^3) = 25 * 9/112).
        var (u, _) = Sample(ThreeNumbers, 600, _ => 0);
        var x = u.Select(p => new[] { p[0] * p[0] * p[0], p[1], p[2] }).ToArray();
        var y = x.Select(p => 5 * p[0] + p[1]).ToArray();
        var r = FunctionalAnova.Decompose(ThreeNumbers, x, y);
        Assert.InRange(Share(r, "x1"), 25.0 / 26 - 0.03, 25.0 / 26 + 0.02);
        Assert.InRange(Share(r, "x2"), 1.0 / 26 - 0.015, 1.0 / 26 + 0.02);
    }

    [Fact]
    public void AnInteractionIsAttributedToThePairNotToTheMainEffects()
    {
        // f = a + 4ab with a = x1 - 1/2, b = x2 - 1/2: E[f|x1] = a (variance 1/12), E[f|x2] = 0, the rest 4ab has variance
        // 16/144; shares 3/7 for x1, 0 for x2 and x3, 4/7 for the pair (x1, x2).
        var (x, y) = Sample(ThreeNumbers, 600, p => (p[0] - 0.5) + 4 * (p[0] - 0.5) * (p[1] - 0.5));
        var r = FunctionalAnova.Decompose(ThreeNumbers, x, y);
        Assert.InRange(Share(r, "x1"), 3.0 / 7 - 0.05, 3.0 / 7 + 0.05);
        Assert.InRange(Share(r, "x2"), 0, 0.03);
        Assert.InRange(Share(r, "x3"), 0, 0.01);
        Assert.Equal("x1 x x2", r.Pairs[0].Name);
        Assert.InRange(r.Pairs[0].Fraction, 4.0 / 7 - 0.07, 4.0 / 7 + 0.05);
        Assert.All(r.Pairs.Skip(1), p => Assert.InRange(p.Fraction, 0, 0.02));
    }

    [Fact]
    public void TheSameSeedGivesTheSameSharesAndAnotherSeedAnotherForest()
    {
        var (x, y) = Sample(ThreeNumbers, 200, p => 3 * p[0] + p[1] * p[2]);
        double[] Shares(ulong seed) => FunctionalAnova.Decompose(ThreeNumbers, x, y, new ForestOptions(Trees: 16, Seed: seed))
            .Main.Concat(FunctionalAnova.Decompose(ThreeNumbers, x, y, new ForestOptions(Trees: 16, Seed: seed)).Pairs).Select(e => e.Fraction).ToArray();
        Assert.Equal(Shares(1), Shares(1));
        Assert.NotEqual(Shares(1), Shares(2));
    }

    [Fact]
    public void TooFewRunsOrAConstantOutcomeAreRefusedWithTheReason()
    {
        var (x, y) = Sample(ThreeNumbers, 9, p => p[0]);
        var few = Assert.Throws<ArgumentException>(() => FunctionalAnova.Decompose(ThreeNumbers, x, y));
        Assert.Contains("at least 10 runs", few.Message);
        Assert.Contains("got 9", few.Message);

        var (x2, y2) = Sample(ThreeNumbers, 30, _ => 0.5);
        var flat = Assert.Throws<ArgumentException>(() => FunctionalAnova.Decompose(ThreeNumbers, x2, y2));
        Assert.Contains("the same (0.5) in all 30 runs", flat.Message);

        var outside = Assert.Throws<ArgumentException>(() => FunctionalAnova.Decompose(ThreeNumbers, [.. x2.Take(29), [2, 0, 0]], [.. y2.Take(29), 1]));
        Assert.Contains("x1 = 2, outside its domain [0, 1]", outside.Message);
    }
}
