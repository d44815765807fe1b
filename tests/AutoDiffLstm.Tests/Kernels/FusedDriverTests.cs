using System.Numerics;
using System.Runtime.CompilerServices;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>
/// The fused SIMD drivers against their scalar formula for every length 0..70, so that each vector width's body and
/// every tail length is covered; spans start at odd offsets and elements past the end must stay untouched.
/// </summary>
public abstract class FusedDriverTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int MaxLength = 70;
    private static readonly T Guard = T.CreateChecked(-777);

    /// <summary>x*y - x: mixes both arguments so swapped operands would show.</summary>
    private struct TwoArgs : IFused2<T>
    {
        public static T Invoke(T x, T y) => x * y - x;
        public static Vector<T> Invoke(Vector<T> x, Vector<T> y) => x * y - x;
    }

    /// <summary>x*y + z*x - z.</summary>
    private struct ThreeArgs : IFused3<T>
    {
        public static T Invoke(T x, T y, T z) => x * y + z * x - z;
        public static Vector<T> Invoke(Vector<T> x, Vector<T> y, Vector<T> z) => x * y + z * x - z;
    }

    private static T[] Random(Rng rng, int n) => Enumerable.Range(0, n).Select(_ => T.CreateChecked(rng.NextDouble(-2, 2))).ToArray();

    public static TheoryData<int> Offsets => new() { 0, 1, 3 };

    [Theory]
    [MemberData(nameof(Offsets))]
    public void MapWritesTheFormulaAtEveryIndexAndNothingPastTheEnd(int offset)
    {
        var rng = new Rng(1);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = Random(rng, offset + n), y = Random(rng, offset + n);
            var dst = Enumerable.Repeat(Guard, offset + n + 8).ToArray();
            AutoDiffLstm.Kernels.Map<T, TwoArgs>(x.AsSpan(offset, n), y.AsSpan(offset, n), dst.AsSpan(offset, n));
            for (int i = 0; i < dst.Length; i++)
            {
                T expected = i >= offset && i < offset + n ? x[i] * y[i] - x[i] : Guard;
                if (dst[i] != expected) Assert.Fail($"length {n}, offset {offset}: dst[{i}] = {dst[i]}, expected {expected}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void AccumulateOfTwoAddsTheFormulaAtEveryIndexAndNothingPastTheEnd(int offset)
    {
        var rng = new Rng(2);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = Random(rng, offset + n), y = Random(rng, offset + n), acc = Random(rng, offset + n + 8);
            var before = (T[])acc.Clone();
            AutoDiffLstm.Kernels.Accumulate<T, TwoArgs>(x.AsSpan(offset, n), y.AsSpan(offset, n), acc.AsSpan(offset, n));
            for (int i = 0; i < acc.Length; i++)
            {
                T expected = i >= offset && i < offset + n ? before[i] + (x[i] * y[i] - x[i]) : before[i];
                if (acc[i] != expected) Assert.Fail($"length {n}, offset {offset}: acc[{i}] = {acc[i]}, expected {expected}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void AccumulateOfThreeAddsTheFormulaAtEveryIndexAndNothingPastTheEnd(int offset)
    {
        var rng = new Rng(3);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = Random(rng, offset + n), y = Random(rng, offset + n), z = Random(rng, offset + n), acc = Random(rng, offset + n + 8);
            var before = (T[])acc.Clone();
            AutoDiffLstm.Kernels.Accumulate<T, ThreeArgs>(x.AsSpan(offset, n), y.AsSpan(offset, n), z.AsSpan(offset, n), acc.AsSpan(offset, n));
            for (int i = 0; i < acc.Length; i++)
            {
                T expected = i >= offset && i < offset + n ? before[i] + (x[i] * y[i] + z[i] * x[i] - z[i]) : before[i];
                if (acc[i] != expected) Assert.Fail($"length {n}, offset {offset}: acc[{i}] = {acc[i]}, expected {expected}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void AddIntoAddsAtEveryIndexAndNothingPastTheEnd(int offset)
    {
        var rng = new Rng(4);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = Random(rng, offset + n), start = Random(rng, n);
            var acc = Enumerable.Repeat(Guard, offset + n + 8).ToArray();
            start.CopyTo(acc, offset);
            AutoDiffLstm.Kernels.AddInto<T>(acc.AsSpan(offset, n), x.AsSpan(offset, n));
            for (int i = 0; i < n; i++) Assert.Equal(start[i] + x[offset + i], acc[offset + i]);
            for (int i = 0; i < offset; i++) Assert.Equal(Guard, acc[i]);
            for (int i = offset + n; i < acc.Length; i++) Assert.Equal(Guard, acc[i]);
        }
        var ex = Assert.Throws<ArgumentException>(() => AutoDiffLstm.Kernels.AddInto<T>(new T[4], new T[5]));
        Assert.Contains("Kernels.AddInto: 5 values added into 4", ex.Message);
    }

    [Fact]
    public void RepeatRowsSetsEveryRowAndWritesNothingElse()
    {
        var rng = new Rng(6);
        foreach (int cols in new[] { 1, 3, Vector<T>.Count, 4 * Vector<T>.Count, 4 * Vector<T>.Count + 3, 70 })
            foreach (int rows in new[] { 0, 1, 2, 9 })
            {
                var row = Random(rng, cols);
                var dst = Enumerable.Repeat(Guard, rows * cols + 8).ToArray();
                AutoDiffLstm.Kernels.RepeatRows<T>(row, dst.AsSpan(0, rows * cols));
                for (int r = 0; r < rows; r++) Assert.Equal(row, dst.AsSpan(r * cols, cols).ToArray());
                Assert.All(dst[(rows * cols)..], v => Assert.Equal(Guard, v));
            }
        var ex = Assert.Throws<ArgumentException>(() => AutoDiffLstm.Kernels.RepeatRows<T>(new T[3], new T[7]));
        Assert.Contains("Kernels.RepeatRows: 7 values are not whole rows of 3", ex.Message);
    }

    [Fact]
    public void AddRowsGivesTheBitsOfOneAddPerRowAndWritesNothingElse()
    {
        var rng = new Rng(5);
        int w = System.Runtime.Intrinsics.Vector512<T>.Count;
        // Rows in cache are summed four at a time, past AddRowsInCacheBytes one at a time: both, with every tail.
        int overCache = AutoDiffLstm.Kernels.AddRowsInCacheBytes / (70 * Unsafe.SizeOf<T>()) + 1;
        foreach (var (cols, rowCounts) in new[] { 1, 3, Vector<T>.Count, 4 * Vector<T>.Count, 4 * Vector<T>.Count + 3, w, 5 * w + 3, 70 }
            .Select(c => (c, new[] { 0, 1, 2, 4, 9 })).Append((70, new[] { overCache })))
            foreach (int rows in rowCounts)
            {
                T[] data = Random(rng, rows * cols), start = Random(rng, cols);
                var expected = (T[])start.Clone();
                for (int r = 0; r < rows; r++) AutoDiffLstm.Kernels.AddInto<T>(expected, data.AsSpan(r * cols, cols));
                var sum = Enumerable.Repeat(Guard, cols + 8).ToArray();
                start.CopyTo(sum, 0);
                AutoDiffLstm.Kernels.AddRows<T>(data, sum.AsSpan(0, cols));
                Assert.Equal(expected, sum[..cols]);
                Assert.All(sum[cols..], v => Assert.Equal(Guard, v));
            }
        var ex = Assert.Throws<ArgumentException>(() => AutoDiffLstm.Kernels.AddRows<T>(new T[7], new T[3]));
        Assert.Contains("Kernels.AddRows: 7 values are not whole rows of 3", ex.Message);
    }

    [Fact]
    public void FirstNonFiniteFindsTheFirstNanOrInfinityAtEveryPositionOfEveryLength()
    {
        T[] bad = [T.NaN, T.PositiveInfinity, T.NegativeInfinity];
        var rng = new Rng(4);
        for (int n = 0; n <= MaxLength; n++)
        {
            // Non-finite values just outside the span must be ignored.
            var data = Random(rng, n + 2);
            data[0] = T.NaN;
            data[^1] = T.PositiveInfinity;
            Assert.Equal(-1, AutoDiffLstm.Kernels.FirstNonFinite<T>(data.AsSpan(1, n)));
            for (int p = 0; p < n; p++)
                foreach (var b in bad)
                {
                    var copy = (T[])data.Clone();
                    copy[1 + p] = b;
                    if (p + 2 < n) copy[1 + n - 1] = T.NaN; // a later offender must not win
                    int found = AutoDiffLstm.Kernels.FirstNonFinite<T>(copy.AsSpan(1, n));
                    if (found != p) Assert.Fail($"length {n}: {b} at {p} reported at {found}.");
                }
        }
    }

    [Fact]
    public void FirstNonFiniteAcceptsExtremeFiniteValues()
    {
        T max = typeof(T) == typeof(float) ? T.CreateChecked(float.MaxValue) : T.CreateChecked(double.MaxValue);
        T[] extremes = [max, -max, T.Epsilon, -T.Epsilon, T.Zero, T.NegativeZero];
        var data = Enumerable.Range(0, 40).Select(i => extremes[i % extremes.Length]).ToArray();
        Assert.Equal(-1, AutoDiffLstm.Kernels.FirstNonFinite<T>(data));
    }
}

public sealed class FusedDriverTestsFloat : FusedDriverTests<float>;

public sealed class FusedDriverTestsDouble : FusedDriverTests<double>;
