using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>
/// Gemm.Run against the naive triple loop, for all four transpose combinations, with and without accumulation, at
/// offsets, on sizes that hit every tile remainder (primes, 1, K = 0, multiples and non-multiples of the vector width,
/// the 4-row tile and the 256-deep / 512-wide cache blocks). Tolerance: the dot-product error bound (k + 2) u sum|a b|
/// with u = 2^-53 (double) or 2^-24 (float), see <see cref="GemmReference.Tolerance"/>.
/// </summary>
public abstract class GemmTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 }, { 1, 70, 13 }, { 70, 1, 13 }, { 13, 17, 1 }, { 5, 7, 0 }, { 0, 5, 3 }, { 5, 0, 3 },
        { 2, 3, 5 }, { 3, 2, 7 }, { 4, 8, 16 }, { 8, 16, 4 }, { 7, 9, 11 }, { 13, 17, 19 }, { 31, 37, 41 },
        { 32, 33, 31 }, { 64, 64, 64 }, { 67, 61, 59 }, { 70, 70, 70 }, { 6, 5, 300 }, { 2, 40, 300 }, { 1, 37, 270 }, { 5, 520, 3 }, { 9, 23, 2 }, { 33, 1, 40 }, { 40, 33, 1 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MatchesTheNaiveTripleLoopInEveryVariant(int m, int n, int k)
    {
        ulong seed = 1;
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                    foreach (var (ao, bo, co) in new[] { (0, 0, 0), (3, 5, 7) })
                        new GemmCase<T>(m, n, k, transA, transB, accumulate, ao, bo, co, seed++).RunAndCheck();
    }

    [Fact]
    public void ZeroDepthClearsOrKeepsTheOutput()
    {
        var overwrite = new GemmCase<T>(3, 4, 0, false, false, accumulate: false, 0, 0, 2, 9);
        Assert.All(overwrite.RunAndCheck().AsSpan(2, 12).ToArray(), v => Assert.Equal(T.Zero, v));
        var keep = new GemmCase<T>(3, 4, 0, true, true, accumulate: true, 0, 0, 2, 9);
        Assert.Equal(keep.C, keep.RunAndCheck());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void AnOperandTooShortForItsShapeIsRefusedBeforeAnythingIsRead(int shortOperand)
    {
        // The kernels read through unchecked references, so the extents are checked at the entry.
        var (a, b, c) = (new T[6 * 5], new T[5 * 7], new T[6 * 7]);
        if (shortOperand == 0) a = new T[6 * 5 - 1];
        if (shortOperand == 1) b = new T[5 * 7 - 1];
        if (shortOperand == 2) c = new T[6 * 7 - 1];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Run(a, 0, false, b, 0, false, c, 0, 6, 7, 5, accumulate: true));
        Assert.Contains("does not fit", e.Message);
        Assert.Throws<ArgumentException>(() => Gemm.Run(new T[30], 1, false, new T[35], 0, false, new T[42], 0, 6, 7, 5, accumulate: true));
    }

    /// <summary>
    /// A bias every row starts from gives the bits of filling each row with it and accumulating (the way Linear did it),
    /// on every path (row kernel, single row, matrix times vector, outer product, tiles with edges, two depth blocks),
    /// with a stale C (NaN) that is never read, and with or without the packed-operand cache.
    /// </summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public void ABiasRowGivesTheBitsOfFillingThenAccumulating(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool constantB in new[] { false, true })
            {
                var c = new GemmCase<T>(m, n, k, transA, transB: true, accumulate: false, 2, 1, 3, 7);
                var bias = Enumerable.Range(0, n + 2).Select(i => T.CreateChecked(Math.Sin(i + 1))).ToArray(); // two more than n: never read
                var expected = (T[])c.C.Clone();
                if (m * n > 0) AutoDiffLstm.Kernels.RepeatRows<T>(bias.AsSpan(0, n), expected.AsSpan(c.COff, m * n));
                var got = (T[])c.C.Clone();
                got.AsSpan(c.COff, m * n).Fill(T.NaN);
                using (var scope = PackedOperands.Open())
                {
                    Gemm.Run(c.A, c.AOff, transA, c.B, c.BOff, true, expected, c.COff, m, n, k, accumulate: true, constantB);
                    Gemm.Run(c.A, c.AOff, transA, c.B, c.BOff, true, got, c.COff, m, n, k, accumulate: false, constantB, bias);
                }
                for (int i = 0; i < got.Length; i++)
                    if (BitConverterOf(got[i]) != BitConverterOf(expected[i]))
                        Assert.Fail($"m={m} n={n} k={k} transA={transA} constantB={constantB}: C[{i}] = {got[i]}, filling then accumulating gives {expected[i]}.");
            }
    }

    /// <summary>
    /// A row's bits do not depend on whether a full register tile computes it or the shorter tiles at the end of a block
    /// (4, 2 and 1 rows: every batch size that is not a multiple of AVX2's 6-row tile): the first m rows of A against all
    /// 24 (whole tiles at 6 and at 8 rows), for 2 to 14 rows, with A read in place (few rows) and packed (13 or more
    /// rows), A stored either way, from zero, from a bias and accumulated onto C.
    /// </summary>
    [Fact]
    public void ARowGetsTheSameBitsFromAFullTileOrAShortOne()
    {
        const int all = 24, n = 64, k = 40;
        foreach (bool transA in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var whole = new GemmCase<T>(all, n, k, transA, transB: true, accumulate, 0, 0, 0, 11);
                var bias = accumulate ? null : Enumerable.Range(0, n).Select(i => T.CreateChecked(Math.Cos(i))).ToArray();
                var expected = (T[])whole.C.Clone();
                Gemm.Run(whole.A, 0, transA, whole.B, 0, true, expected, 0, all, n, k, accumulate, bias: bias);
                for (int m = 2; m <= 14; m++)   // one row is a dot product per column (RowTimesMatrix), not a tile
                {
                    // op(A)'s first m rows: a prefix of A's rows, or (A stored transposed) the first m of every depth row.
                    var a = transA ? Enumerable.Range(0, k).SelectMany(q => whole.A.Skip(q * all).Take(m)).ToArray() : whole.A[..(m * k)];
                    var got = whole.C[..(m * n)];
                    Gemm.Run(a, 0, transA, whole.B, 0, true, got, 0, m, n, k, accumulate, bias: bias);
                    for (int i = 0; i < m * n; i++)
                        if (BitConverterOf(got[i]) != BitConverterOf(expected[i]))
                            Assert.Fail($"m={m} transA={transA} accumulate={accumulate}: C[{i / n}, {i % n}] = {got[i]}, but {expected[i]} as row {i / n} of {all}.");
                }
            }
    }

    private static long BitConverterOf(T v) => typeof(T) == typeof(float) ? BitConverter.SingleToInt32Bits(float.CreateTruncating(v)) : BitConverter.DoubleToInt64Bits(double.CreateTruncating(v));

    [Fact]
    public void ABiasTooShortOrOnAnAccumulatedProductIsRefused()
    {
        var (a, b, c) = (new T[6 * 5], new T[5 * 7], new T[6 * 7]);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Run(a, 0, false, b, 0, false, c, 0, 6, 7, 5, accumulate: false, bias: new T[6]));
        Assert.Contains("a bias of 6 values for C [6, 7]: expected at least 7 values", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Run(a, 0, false, b, 0, false, c, 0, 6, 7, 5, accumulate: true, bias: new T[7]));
        Assert.Contains("that is accumulated into", e.Message);
    }

    private static Gen<GemmCase<T>> Cases() =>
        from m in Gen.Choose(0, 70)
        from n in Gen.Choose(0, 70)
        from k in Gen.Choose(0, 70)
        from flags in Gen.Choose(0, 7)
        from ao in Gen.Choose(0, 5)
        from bo in Gen.Choose(0, 5)
        from co in Gen.Choose(0, 5)
        from seed in Gen.Choose(0, int.MaxValue)
        select new GemmCase<T>(m, n, k, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, ao, bo, co, (ulong)seed);

    private static IEnumerable<GemmCase<T>> Shrink(GemmCase<T> c)
    {
        GemmCase<T> With(int m, int n, int k) => new(m, n, k, c.TransA, c.TransB, c.Accumulate, c.AOff, c.BOff, c.COff, 1);
        if (c.M > 1) yield return With(c.M / 2, c.N, c.K);
        if (c.N > 1) yield return With(c.M, c.N / 2, c.K);
        if (c.K > 1) yield return With(c.M, c.N, c.K / 2);
        if (c.M > 1) yield return With(c.M - 1, c.N, c.K);
        if (c.N > 1) yield return With(c.M, c.N - 1, c.K);
        if (c.K > 1) yield return With(c.M, c.N, c.K - 1);
    }

    [Property(MaxTest = 150)]
    public Property RandomSizesTransposesAndOffsetsMatchTheNaiveLoop() =>
        Prop.ForAll(Arb.From(Cases(), Shrink), c => { c.RunAndCheck(); });
}

public sealed class GemmTestsDouble : GemmTests<double>;

public sealed class GemmTestsFloat : GemmTests<float>;
