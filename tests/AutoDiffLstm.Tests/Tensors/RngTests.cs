namespace AutoDiffLstm.Tests.Tensors;

/// <summary>The seeded generator: reproducible streams, correct ranges and plausible statistics.</summary>
public class RngTests
{
    private static ulong[] Stream(Rng rng, int n) => Enumerable.Range(0, n).Select(_ => rng.NextUInt64()).ToArray();

    [Fact]
    public void SameSeedGivesTheSameStreamAndDifferentSeedsDiffer()
    {
        Assert.Equal(Stream(new Rng(42), 100), Stream(new Rng(42), 100));
        Assert.NotEqual(Stream(new Rng(42), 100), Stream(new Rng(43), 100));
        Assert.NotEqual(Stream(new Rng(0), 100), Stream(new Rng(1), 100));
    }

    [Fact]
    public void SeedZeroProducesAVariedStream()
    {
        // xoshiro must never be seeded all-zero (it would emit zeros forever); SplitMix seeding prevents that.
        var values = Stream(new Rng(0), 64);
        Assert.Equal(64, values.Distinct().Count());
    }

    [Fact]
    public void NextDoubleIsInTheUnitIntervalWithMeanOneHalf()
    {
        var rng = new Rng(3);
        var v = Enumerable.Range(0, 100_000).Select(_ => rng.NextDouble()).ToArray();
        Assert.All(v, x => Assert.InRange(x, 0.0, Math.BitDecrement(1.0)));
        // Standard error of the mean is 1/sqrt(12 * 1e5) = 0.0009: tolerance 0.005. Variance 1/12 within 2%.
        Assert.InRange(v.Average(), 0.495, 0.505);
        double variance = v.Select(x => (x - 0.5) * (x - 0.5)).Average();
        Assert.InRange(variance, 1 / 12.0 * 0.98, 1 / 12.0 * 1.02);
    }

    [Fact]
    public void NextDoubleWithBoundsStaysInThem()
    {
        var rng = new Rng(4);
        for (int i = 0; i < 10_000; i++) Assert.InRange(rng.NextDouble(-3, 5), -3, 5);
    }

    [Fact]
    public void NextIntCoversExactlyItsRangeEvenly()
    {
        var rng = new Rng(5);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        // Expected 10,000 each, binomial standard deviation about 93: tolerance 500.
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        Assert.Equal(0, new Rng(6).NextInt(1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void NextIntRejectsANonPositiveBound(int n)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Rng(1).NextInt(n));
        Assert.Contains(n.ToString(), error.Message);
    }

    [Fact]
    public void NextNormalHasZeroMeanAndUnitVariance()
    {
        var rng = new Rng(8);
        var v = Enumerable.Range(0, 100_000).Select(_ => rng.NextNormal()).ToArray();
        Assert.All(v, x => Assert.True(double.IsFinite(x)));
        // Standard errors: mean 0.0032, variance 0.0045: tolerances 0.015 and 0.02.
        Assert.InRange(v.Average(), -0.015, 0.015);
        Assert.InRange(v.Select(x => x * x).Average(), 0.98, 1.02);
        // The fraction within one standard deviation is 68.27%.
        Assert.InRange(v.Count(x => Math.Abs(x) < 1) / (double)v.Length, 0.6777, 0.6877);
    }

    [Fact]
    public void ForkIsDeterministicAndIndependentOfTheParentsContinuation()
    {
        var a = new Rng(9);
        var b = new Rng(9);
        var forkA = a.Fork();
        var forkB = b.Fork();
        Assert.Equal(Stream(forkA, 50), Stream(forkB, 50));
        Assert.NotEqual(Stream(new Rng(9).Fork(), 50), Stream(a, 50));
        // Two successive forks of one parent are different streams.
        var parent = new Rng(10);
        Assert.NotEqual(Stream(parent.Fork(), 50), Stream(parent.Fork(), 50));
    }
}
