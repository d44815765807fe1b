using System.Numerics;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>
/// The textbook triple loop for C (+)= op(A) op(B) on the same storage conventions as Gemm.Run, plus the forward error
/// bound used to compare against it: a length-k dot product in precision u is within about k*u*sum|a||b| of the exact one.
/// </summary>
internal static class GemmReference
{
    /// <summary>
    /// The expected C in double, and per element the tolerance (k + 2) * u * (sum_p |a_ip b_pj| + |c_ij|) with u the
    /// unit roundoff of T (2^-53 for double, 2^-24 for float).
    /// </summary>
    public static (double[] Expected, double[] Tolerance) Run<T>(T[] a, int aOff, bool transA, T[] b, int bOff, bool transB, T[] c, int cOff, int m, int n, int k, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        // op(A) as [m, k] and op(B) as [k, n] in double, so that the loop below is the plain textbook one.
        var opA = new double[m * k];
        var opB = new double[k * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) opA[i * k + p] = double.CreateChecked(transA ? a[aOff + p * m + i] : a[aOff + i * k + p]);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) opB[p * n + j] = double.CreateChecked(transB ? b[bOff + j * k + p] : b[bOff + p * n + j]);
        var expected = c.Select(v => double.CreateChecked(v)).ToArray();
        var tolerance = new double[c.Length];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double c0 = accumulate ? expected[cOff + i * n + j] : 0;
                double s = c0, magnitude = Math.Abs(c0);
                for (int p = 0; p < k; p++)
                {
                    double term = opA[i * k + p] * opB[p * n + j];
                    s += term;
                    magnitude += Math.Abs(term);
                }
                expected[cOff + i * n + j] = s;
                tolerance[cOff + i * n + j] = (k + 2) * u * magnitude;
            }
        return (expected, tolerance);
    }
}

/// <summary>One Gemm call with padded operands: random values, sentinel padding around C that must survive.</summary>
internal sealed class GemmCase<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public const double Sentinel = 1234.5;
    public readonly int M, N, K, AOff, BOff, COff;
    public readonly bool TransA, TransB, Accumulate;
    public readonly T[] A, B, C;

    public GemmCase(int m, int n, int k, bool transA, bool transB, bool accumulate, int aOff, int bOff, int cOff, ulong seed)
    {
        (M, N, K, TransA, TransB, Accumulate, AOff, BOff, COff) = (m, n, k, transA, transB, accumulate, aOff, bOff, cOff);
        var rng = new Rng(seed);
        A = Random(rng, aOff + m * k + 3);
        B = Random(rng, bOff + k * n + 3);
        C = Random(rng, cOff + m * n + 3);
        for (int i = 0; i < C.Length; i++)
            if (i < cOff || i >= cOff + m * n) C[i] = T.CreateChecked(Sentinel);
    }

    private static T[] Random(Rng rng, int length) => Enumerable.Range(0, length).Select(_ => T.CreateChecked(rng.NextDouble(-1, 1))).ToArray();

    public override string ToString() =>
        $"m={M} n={N} k={K} transA={TransA} transB={TransB} accumulate={Accumulate} offsets=({AOff},{BOff},{COff})";

    /// <summary>Runs Gemm on a copy of C (<paramref name="constantB"/>: B may come from the packed-operand cache).</summary>
    public T[] Run(bool constantB = false)
    {
        var c = (T[])C.Clone();
        Gemm.Run(A, AOff, TransA, B, BOff, TransB, c, COff, M, N, K, Accumulate, constantB);
        return c;
    }

    /// <summary>Runs Gemm on a copy of C and checks it against the reference, the padding and the untouched inputs.</summary>
    public T[] RunAndCheck(bool constantB = false)
    {
        var (a0, b0) = ((T[])A.Clone(), (T[])B.Clone());
        var c = Run(constantB);
        var (expected, tolerance) = GemmReference.Run(A, AOff, TransA, B, BOff, TransB, C, COff, M, N, K, Accumulate);
        for (int i = 0; i < c.Length; i++)
        {
            double got = double.CreateChecked(c[i]);
            if (i < COff || i >= COff + M * N)
            {
                if (got != Sentinel) Assert.Fail($"{this}: padding C[{i}] was overwritten with {got}.");
            }
            else if (!(Math.Abs(got - expected[i]) <= tolerance[i]))
                Assert.Fail($"{this}: C[{(i - COff) / Math.Max(1, N)}, {(i - COff) % Math.Max(1, N)}] = {got:R}, expected {expected[i]:R} (tolerance {tolerance[i]:G3}).");
        }
        Assert.Equal(a0, A);
        Assert.Equal(b0, B);
        return c;
    }
}
