using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>
/// Kernels.Broadcast, ReduceToShape and Expand against a naive reference that maps every output index to each operand's
/// index (broadcast dimensions read index 0), on random shapes of rank 0..4 including zero-sized dimensions.
/// </summary>
public class BroadcastKernelProperties
{
    /// <summary>An operand of the output frame: its last <c>Ones.Length</c> dimensions, with the marked ones set to 1.</summary>
    internal sealed record Operand(bool[] Ones)
    {
        public int[] In(int[] frame) => frame[^Ones.Length..].Select((d, i) => Ones[i] ? 1 : d).ToArray();
        public Operand Fit(int rank) => new(Ones[^Math.Min(rank, Ones.Length)..]);
    }

    internal sealed record Case(int[] Frame, Operand X, Operand Z, int Seed)
    {
        public int[] XShape => X.In(Frame);
        public int[] ZShape => Z.In(Frame);
        public override string ToString() => $"x {Fmt(XShape)}, z {Fmt(ZShape)} (frame {Fmt(Frame)}, seed {Seed})";
    }

    private static string Fmt(int[] s) => "[" + string.Join(", ", s) + "]";

    // Mostly full-rank operands (where two-sided broadcasting happens), sometimes fewer leading dimensions or a scalar.
    private static Gen<Operand> Operands(int rank) =>
        from r in Gen.Frequency((3, Gen.Constant(rank)), (2, Gen.Choose(0, rank)))
        from ones in Gen.ArrayOf(Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true))), r)
        select new Operand(ones);

    private static Gen<Case> Cases() =>
        from rank in Gen.Frequency((1, Gen.Constant(0)), (8, Gen.Choose(1, 4)))
        from frame in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(0)), (12, Gen.Choose(1, 5))), rank)
        from x in Operands(rank)
        from z in Operands(rank)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Case(frame, x, z, seed);

    private static IEnumerable<Case> Shrink(Case c)
    {
        if (c.Frame.Length > 0)
        {
            int rank = c.Frame.Length - 1;
            yield return c with { Frame = c.Frame[1..], X = c.X.Fit(rank), Z = c.Z.Fit(rank) };
        }
        for (int i = 0; i < c.Frame.Length; i++)
            if (c.Frame[i] > 1)
            {
                var f = (int[])c.Frame.Clone();
                f[i]--;
                yield return c with { Frame = f };
            }
    }

    private static Arbitrary<Case> Arbitrary() => Arb.From(Cases(), Shrink);

    private static double[] Values(Rng rng, int[] shape) =>
        Enumerable.Range(0, ShapeMath.Size(shape)).Select(_ => rng.NextDouble(0.5, 2) * (rng.NextInt(2) * 2 - 1)).ToArray();

    /// <summary>Flat index into <paramref name="shape"/> of the element that output multi-index <paramref name="index"/> reads.</summary>
    private static int SourceIndex(int[] index, int[] shape)
    {
        int flat = 0, shift = index.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++) flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[d + shift]);
        return flat;
    }

    private static IEnumerable<int[]> Indices(int[] shape)
    {
        int size = ShapeMath.Size(shape);
        for (int flat = 0; flat < size; flat++)
        {
            var index = new int[shape.Length];
            for (int d = shape.Length - 1, r = flat; d >= 0; d--) { index[d] = r % shape[d]; r /= shape[d]; }
            yield return index;
        }
    }

    private static void CheckBinary<T, TOp>(Case c, Func<T, T, T> op)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where TOp : struct, IBinarySpanOp<T>
    {
        var rng = new Rng((ulong)c.Seed);
        int[] xs = c.XShape, zs = c.ZShape, ys = ShapeMath.Broadcast("test", xs, zs);
        T[] x = Values(rng, xs).Select(T.CreateChecked).ToArray(), z = Values(rng, zs).Select(T.CreateChecked).ToArray();
        var y = new T[ShapeMath.Size(ys)];
        AutoDiffLstm.Kernels.Broadcast<T, TOp>(x, xs, z, zs, y, ys);
        int i = 0;
        foreach (var index in Indices(ys))
        {
            // Elementwise IEEE operations are correctly rounded in SIMD and scalar form alike: equality is exact.
            T expected = op(x[SourceIndex(index, xs)], z[SourceIndex(index, zs)]);
            if (y[i] != expected) Assert.Fail($"{typeof(TOp).Name} {c}: y{Fmt(index)} = {y[i]}, expected {expected}.");
            i++;
        }
    }

    private static void CheckAllBinaryOps<T>(Case c) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckBinary<T, AddSpans<T>>(c, (a, b) => a + b);
        CheckBinary<T, SubtractSpans<T>>(c, (a, b) => a - b);
        CheckBinary<T, MultiplySpans<T>>(c, (a, b) => a * b);
        CheckBinary<T, DivideSpans<T>>(c, (a, b) => a / b);
    }

    [Property(MaxTest = 300)]
    public Property BroadcastMatchesTheIndexReference() =>
        Prop.ForAll(Arbitrary(), c =>
        {
            CheckAllBinaryOps<double>(c);
            CheckAllBinaryOps<float>(c);
        });

    [Property(MaxTest = 300)]
    public Property ReduceToShapeAddsEveryBroadcastCopyOntoItsSource() =>
        Prop.ForAll(Arbitrary(), c =>
        {
            var rng = new Rng((ulong)c.Seed);
            int[] accShape = c.XShape, gShape = ShapeMath.Broadcast("test", accShape, c.ZShape);
            double[] g = Values(rng, gShape), acc = Values(rng, accShape);
            var expected = (double[])acc.Clone();
            var magnitude = acc.Select(Math.Abs).ToArray();
            int i = 0;
            foreach (var index in Indices(gShape))
            {
                int s = SourceIndex(index, accShape);
                expected[s] += g[i];
                magnitude[s] += Math.Abs(g[i]);
                i++;
            }
            AutoDiffLstm.Kernels.ReduceToShape<double>(g, gShape, acc, accShape);
            // Summation order may differ from the reference (vectorised sums): allow 4n rounding errors of the magnitude.
            int copies = Math.Max(1, g.Length / Math.Max(1, acc.Length));
            for (int k = 0; k < acc.Length; k++)
                if (!(Math.Abs(acc[k] - expected[k]) <= 4 * (copies + 1) * Math.Pow(2, -53) * magnitude[k]))
                    Assert.Fail($"{c}: acc[{k}] = {acc[k]:R}, expected {expected[k]:R}.");
        });

    [Property(MaxTest = 300)]
    public Property ExpandCopiesEverySourceElementToItsBroadcastPositions() =>
        Prop.ForAll(Arbitrary(), c =>
        {
            var rng = new Rng((ulong)c.Seed);
            int[] srcShape = c.XShape, dstShape = ShapeMath.Broadcast("test", srcShape, c.ZShape);
            double[] src = Values(rng, srcShape);
            var dst = new double[ShapeMath.Size(dstShape)];
            AutoDiffLstm.Kernels.Expand<double>(src, srcShape, dst, dstShape);
            int i = 0;
            foreach (var index in Indices(dstShape))
            {
                if (dst[i] != src[SourceIndex(index, srcShape)]) Assert.Fail($"{c}: dst{Fmt(index)} = {dst[i]:R}, expected {src[SourceIndex(index, srcShape)]:R}.");
                i++;
            }
        });

    [Fact]
    public void GeneratedCasesIncludeScalarsZeroSizesAndTwoSidedBroadcasts()
    {
        var cases = Arbitrary().Generator.Sample(400, new Rnd(2024), 50);
        Assert.Contains(cases, c => c.XShape.Length == 0 || c.ZShape.Length == 0);
        Assert.Contains(cases, c => c.Frame.Contains(0));
        Assert.Contains(cases, c => c.XShape.Length == c.ZShape.Length &&
            c.XShape.Zip(c.ZShape).Any(p => p.First == 1 && p.Second > 1) && c.XShape.Zip(c.ZShape).Any(p => p.First > 1 && p.Second == 1));
    }
}
