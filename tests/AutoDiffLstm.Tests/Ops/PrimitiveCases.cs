using System.Numerics;
using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// FsCheck generation and shrinking of <see cref="PrimitiveCase"/>s for a <see cref="PrimitiveSpec{T}"/>. A failing case
/// shrinks dimension by dimension towards 1, knob by knob towards 0 (the simplest layout), to the first value regime, ids
/// towards 0, and values towards the range's simple value, then integers, then one decimal, so that the report shows
/// the smallest shapes and the plainest numbers that still fail.
/// </summary>
internal static class PrimitiveCases
{
    public const int MaxDim = 5;

    public static Arbitrary<PrimitiveCase> For<T>(PrimitiveSpec<T> spec) where T : unmanaged, IFloatingPointIeee754<T> =>
        Arb.From(Generator(spec), c => Shrink(spec, c));

    private static Gen<PrimitiveCase> Generator<T>(PrimitiveSpec<T> spec) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // One in five dimensions is 1, so size-1 axes (and the broadcasting they allow) are common but not the rule.
        var dim = Gen.Frequency((1, Gen.Constant(1)), (4, Gen.Choose(2, MaxDim)));
        return from regime in Gen.Choose(0, spec.Regimes.Length - 1)
               from dims in Gen.ArrayOf(dim, spec.Dims)
               from knobs in Gen.CollectToArray(spec.Knobs.Select(max => Gen.Choose(0, max - 1)))
               let layout = spec.Layout(dims, knobs)
               from values in Gen.CollectToArray(layout.Shapes.Select((s, i) => Gen.ArrayOf(Value(spec.Regimes[regime].For(layout.Roles[i])), Size(s))))
               from ids in Gen.ArrayOf(Gen.Choose(0, Math.Max(0, layout.IdRange - 1)), layout.IdCount)
               select Realize(spec, new Draw(regime, dims, knobs, values, ids));
    }

    /// <summary>
    /// One in five values is an end of the range (|x| = 20 for saturation, 1000 for logits); the rest lie on a grid of 2e6
    /// points over the range (4 decimals, readable in reports; moved by the range's grid offset); none near an avoided point.
    /// </summary>
    private static Gen<double> Value(ValueRange r) =>
        Gen.Frequency(
            (1, Gen.Elements(r.Lo, r.Hi)),
            (4, Gen.Choose(0, 2_000_000).Select(i => Math.Round(r.Lo + (r.Hi - r.Lo) * (i / 2e6), 4) + r.GridOffset)))
        .Where(r.Contains);

    /// <summary>Recomputes the layout and fits values and ids to it: missing or out-of-range values become the role's simple value.</summary>
    public static PrimitiveCase Realize<T>(PrimitiveSpec<T> spec, Draw d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = spec.Layout(d.Dims, d.Knobs);
        var regime = spec.Regimes[d.Regime];
        var values = layout.Shapes.Select((s, i) =>
        {
            var range = regime.For(layout.Roles[i]);
            var old = i < d.Values.Length ? d.Values[i] : [];
            return Enumerable.Range(0, Size(s)).Select(j => j < old.Length && range.Contains(old[j]) ? old[j] : range.Simple).ToArray();
        }).ToArray();
        var ids = Enumerable.Range(0, layout.IdCount).Select(j => j < d.Ids.Length ? d.Ids[j] % Math.Max(1, layout.IdRange) : 0).ToArray();
        if (layout.RepeatFirstId && ids.Length >= 2) ids[^1] = ids[0];
        return new PrimitiveCase(d with { Values = values, Ids = ids }, layout);
    }

    public static IEnumerable<PrimitiveCase> Shrink<T>(PrimitiveSpec<T> spec, PrimitiveCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = c.Draw;
        PrimitiveCase With(Draw x) => Realize(spec, x);
        for (int i = 0; i < d.Dims.Length; i++)
            foreach (int smaller in Smaller(d.Dims[i], 1))
                yield return With(d with { Dims = Replace(d.Dims, i, smaller) });
        // A size-1 dimension moved behind the larger ones, where a smaller rank knob can then drop it ([1, 1, 4] -> [4]).
        // Each move shifts a larger dimension forward, so this too cannot cycle.
        for (int i = 0; i < d.Dims.Length; i++)
            if (d.Dims[i] == 1 && d.Dims.Skip(i + 1).Any(x => x > 1))
                yield return With(d with { Dims = [.. d.Dims[..i], .. d.Dims[(i + 1)..], 1] });
        for (int i = 0; i < d.Knobs.Length; i++)
            foreach (int smaller in Smaller(d.Knobs[i], 0))
                yield return With(d with { Knobs = Replace(d.Knobs, i, smaller) });
        if (d.Regime > 0) yield return With(d with { Regime = 0 });
        for (int i = 0; i < d.Ids.Length; i++)
            if (d.Ids[i] > 0) yield return With(d with { Ids = Replace(d.Ids, i, 0) });
        var regime = spec.Regimes[d.Regime];
        for (int k = 0; k < d.Values.Length; k++)
        {
            var range = regime.For(c.Layout.Roles[k]);
            for (int i = 0; i < d.Values[k].Length; i++)
                foreach (double simpler in Simpler(d.Values[k][i], range))
                    yield return With(d with { Values = Replace(d.Values, k, Replace(d.Values[k], i, simpler)) });
        }
    }

    /// <summary>The floor first (the biggest step), then one less: both strictly smaller, so shrinking terminates.</summary>
    private static IEnumerable<int> Smaller(int v, int floor)
    {
        if (v > floor) yield return floor;
        if (v - 1 > floor) yield return v - 1;
    }

    /// <summary>
    /// Simpler values in a strict order (the range's simple value &lt; integers &lt; one decimal &lt; anything else), each
    /// proposed only when it is of a lower class than <paramref name="v"/>, so shrinking cannot cycle.
    /// </summary>
    private static IEnumerable<double> Simpler(double v, ValueRange range)
    {
        int cls = Class(v, range);
        foreach (double s in new[] { range.Simple, Math.Round(v), Math.Round(v, 1) })
            if (range.Contains(s) && Class(s, range) < cls) yield return s;
    }

    private static int Class(double v, ValueRange range) =>
        v == range.Simple ? 0 : v == Math.Round(v) ? 1 : v == Math.Round(v, 1) ? 2 : 3;

    private static TItem[] Replace<TItem>(TItem[] a, int i, TItem v)
    {
        var r = (TItem[])a.Clone();
        r[i] = v;
        return r;
    }

    public static int Size(int[] shape) => shape.Aggregate(1, (p, d) => p * d);
}
