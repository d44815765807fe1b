using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>How padding is described in a case.</summary>
public enum Padding { None, Lengths, Mask }

/// <summary>
/// One randomly drawn gradient-check scenario: horizon, sizes, stack shape, padding, truncation and weight scale.
/// Everything random beyond these fields (weights, inputs, lengths, loss weights) is drawn from <see cref="Seed"/>,
/// so a case prints as a complete reproduction recipe.
/// </summary>
public sealed record RecurrentCase(
    int Steps, int Batch, int Input, int Hidden, int Layers, bool Bidirectional, bool Residual,
    Padding Padding, int DetachEvery, bool GivenInitialState, double WeightScale, double ForgetBias, ulong Seed);

/// <summary>FsCheck generators and shrinkers of <see cref="RecurrentCase"/>.</summary>
public static class RecurrentCases
{
    /// <summary>
    /// Mostly short horizons (1..20) with everything else random; about one case in eight has a horizon of hundreds
    /// (with one layer and direction, to bound the cost). Sizes 1..4, weights uniform in +-scale with scale up to 3
    /// (saturating gates), forget biases in [-1, 3].
    /// </summary>
    public static Arbitrary<RecurrentCase> Arbitrary(double maxLongScale = 3.0)
    {
        var shortCase =
            from steps in Gen.Choose(1, 20)
            from batch in Gen.Choose(1, 4)
            from input in Gen.Choose(1, 4)
            from hidden in Gen.Choose(1, 4)
            from layers in Gen.Frequency((3, Gen.Constant(1)), (2, Gen.Constant(2)))
            from bidirectional in Gen.Elements(false, true)
            from residual in Gen.Elements(false, true)
            from padding in Gen.Elements(Padding.None, Padding.Lengths, Padding.Mask)
            from detach in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 6)))
            from given in Gen.Elements(false, true)
            from scale in Gen.Choose(1, 30)
            from forgetBias in Gen.Choose(-2, 6)
            from seed in Gen.Choose(0, int.MaxValue)
            select new RecurrentCase(steps, batch, input, hidden, layers, bidirectional, residual, padding, detach, given,
                scale / 10.0, forgetBias / 2.0, (ulong)seed);
        var longCase =
            from steps in Gen.Choose(100, 400)
            from batch in Gen.Choose(1, 2)
            from input in Gen.Choose(1, 2)
            from hidden in Gen.Choose(1, 3)
            from padding in Gen.Elements(Padding.None, Padding.Lengths)
            from detach in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(10, 60)))
            from given in Gen.Elements(false, true)
            from scale in Gen.Choose(1, (int)(10 * maxLongScale))
            from forgetBias in Gen.Choose(-2, 6)
            from seed in Gen.Choose(0, int.MaxValue)
            select new RecurrentCase(steps, batch, input, hidden, 1, false, false, padding, detach, given,
                scale / 10.0, forgetBias / 2.0, (ulong)seed);
        return Arb.From(Gen.Frequency((7, shortCase), (1, longCase)), Shrink);
    }

    /// <summary>Smaller horizons and sizes first, then simpler structure; the seed is kept.</summary>
    public static IEnumerable<RecurrentCase> Shrink(RecurrentCase c)
    {
        if (c.Steps > 1) yield return c with { Steps = 1 };
        if (c.Steps > 2) yield return c with { Steps = c.Steps / 2 };
        if (c.Steps > 1) yield return c with { Steps = c.Steps - 1 };
        if (c.Batch > 1) yield return c with { Batch = c.Batch - 1 };
        if (c.Input > 1) yield return c with { Input = c.Input - 1 };
        if (c.Hidden > 1) yield return c with { Hidden = c.Hidden - 1 };
        if (c.Layers > 1) yield return c with { Layers = c.Layers - 1 };
        if (c.Bidirectional) yield return c with { Bidirectional = false };
        if (c.Residual) yield return c with { Residual = false };
        if (c.Padding != Padding.None) yield return c with { Padding = Padding.None };
        if (c.DetachEvery != 0) yield return c with { DetachEvery = 0 };
        if (c.GivenInitialState) yield return c with { GivenInitialState = false };
        if (c.WeightScale > 1) yield return c with { WeightScale = 1 };
        if (c.ForgetBias != 0) yield return c with { ForgetBias = 0 };
    }

    /// <summary>Runs <paramref name="property"/> on <paramref name="count"/> cases from a fixed replay seed, so the suite is deterministic; failures are shrunk.</summary>
    public static void Check(string name, Arbitrary<RecurrentCase> cases, int count, Action<RecurrentCase> property)
    {
        ulong seed = 0x5EED;
        foreach (char ch in name) seed = seed * 31 + ch;
        var config = Config.QuickThrowOnFailure.WithMaxTest(count).WithName(name).WithQuietOnSuccess(true)
            .WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL), Microsoft.FSharp.Core.FSharpOption<int>.None)));
        FsCheck.Check.One(config, Prop.ForAll(cases, property));
    }
}
