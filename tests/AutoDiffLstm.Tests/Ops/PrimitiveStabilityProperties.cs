using System.Numerics;
using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// Saturating primitives at |x| = 1000, in float and double: sigmoid, tanh, softmax, log-softmax and cross-entropy give
/// finite values and gradients that match a stable double reference, and reach their limits (sigmoid 0 and 1, tanh
/// -1 and 1, softmax one-hot, log-softmax x - max, cross-entropy max - x_target). Logits are [rows, cols] with one in five
/// entries exactly -1000 or 1000 and the rest anywhere in between; failures shrink like the gradient properties.
/// </summary>
public class PrimitiveStabilityProperties
{
    private const int Cases = 100;

    private static readonly PrimitiveSpec<double> Logits = new("logits", [], "1", "[rows, cols] logits with a target per row",
        [new Regime("|x| <= 1000", [new ValueRange(-1000, 1000, 1000)])],
        Dims: 2, Knobs: [],
        (d, k) => new Layout([[d[0], d[1]]], [0], [], IdCount: d[0], IdRange: d[1]),
        (c, x) => x[0]);

    [Fact]
    public void SaturatingPrimitivesAreFiniteAndReachTheirLimitsInDouble() => Run<double>();

    [Fact]
    public void SaturatingPrimitivesAreFiniteAndReachTheirLimitsInFloat() => Run<float>();

    private static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        Prop.ForAll(PrimitiveCases.For(Logits), c =>
            {
                var problems = Problems<T>(c);
                return (problems.Count == 0).Label($"{typeof(T).Name} logits {c.Shapes}: {string.Join("; ", problems.Take(5))}\ncase: {c}");
            })
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));

    /// <summary>Every deviation found for one case (empty when all is well).</summary>
    private static List<string> Problems<T>(PrimitiveCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var problems = new List<string>();
        int rows = c.Layout.Shapes[0][0], cols = c.Layout.Shapes[0][1];
        var values = c.Values[0].Select(T.CreateChecked).ToArray();
        var x = values.Select(v => double.CreateChecked(v)).ToArray(); // the point the engine sees, exactly
        double eps = typeof(T) == typeof(float) ? 1.1920929e-7 : 2.220446049250313e-16; // machine epsilon of T
        // Bounded outputs (sigmoid, tanh, probabilities) are accurate to a few ulps; anything that goes through x - max
        // or log-sum-exp inherits the rounding of arguments of size up to 2000: 16 eps (1 + max|x|).
        double bounded = 8 * eps, shifted = 16 * eps * (1 + x.Max(Math.Abs));
        var weights = Enumerable.Range(0, rows * cols).Select(i => Math.Sin(i + 1.0)).ToArray(); // fixed, O(1), both signs

        void Check(string what, int i, double actual, double expected, double tolerance)
        {
            if (!double.IsFinite(actual)) problems.Add($"{what}[{i}] is {actual} (x = {x[i % x.Length]})");
            else if (!(Math.Abs(actual - expected) <= tolerance)) problems.Add($"{what}[{i}] = {actual:G9}, expected {expected:G9} ± {tolerance:G2}");
        }

        (double[] Y, double[] Dx) Run(Func<Tensor<T>, Tensor<T>> f)
        {
            Tape.Current.Reset();
            var leaf = new Tensor<T>([rows, cols], (T[])values.Clone()).RequireGrad();
            var y = f(leaf);
            var seed = new Tensor<T>((int[])y.Dims.Clone(), weights.Take(y.Size).Select(T.CreateChecked).ToArray());
            y.Backward(seed);
            return (y.ToArray().Select(v => double.CreateChecked(v)).ToArray(), leaf.Grad!.ToArray().Select(v => double.CreateChecked(v)).ToArray());
        }

        // Sigmoid and tanh, with their exact limits at |x| = 1000.
        var (sig, dsig) = Run(t => t.Sigmoid());
        var (tanh, dtanh) = Run(t => t.Tanh());
        for (int i = 0; i < x.Length; i++)
        {
            double s = x[i] >= 0 ? 1 / (1 + Math.Exp(-x[i])) : Math.Exp(x[i]) / (1 + Math.Exp(x[i]));
            Check("sigmoid", i, sig[i], s, bounded);
            Check("d sigmoid", i, dsig[i], weights[i] * s * (1 - s), bounded);
            Check("tanh", i, tanh[i], Math.Tanh(x[i]), bounded);
            Check("d tanh", i, dtanh[i], weights[i] * (1 - Math.Tanh(x[i]) * Math.Tanh(x[i])), bounded);
            if (Math.Abs(x[i]) == 1000)
            {
                Check("sigmoid limit", i, sig[i], x[i] > 0 ? 1 : 0, eps);
                Check("tanh limit", i, tanh[i], Math.Sign(x[i]), eps);
            }
        }

        // Softmax, log-softmax and cross-entropy along the rows, against log-sum-exp in double.
        var (p, dp) = Run(t => t.Softmax());
        var (logp, dlogp) = Run(t => t.LogSoftmax());
        var (ce, dce) = Run(t => t.CrossEntropy(c.Ids));
        double expectedLoss = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            double max = double.NegativeInfinity;
            foreach (double v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (double v in row) sum += Math.Exp(v - max);
            double lse = max + Math.Log(sum);
            double wp = 0, wsum = 0;
            for (int j = 0; j < cols; j++) { wp += weights[r * cols + j] * Math.Exp(row[j] - lse); wsum += weights[r * cols + j]; }
            expectedLoss += (lse - row[c.Ids[r]]) / rows;
            for (int j = 0; j < cols; j++)
            {
                int i = r * cols + j;
                double pj = Math.Exp(row[j] - lse);
                Check("softmax", i, p[i], pj, shifted);
                Check("log-softmax", i, logp[i], row[j] - lse, shifted);
                Check("d softmax", i, dp[i], pj * (weights[i] - wp), shifted);
                Check("d log-softmax", i, dlogp[i], weights[i] - pj * wsum, shifted);
                Check("d cross-entropy", i, dce[i], weights[0] * (pj - (j == c.Ids[r] ? 1 : 0)) / rows, shifted);
                if (row[j] == max && sum == 1) Check("softmax one-hot limit", i, p[i], 1, shifted);
            }
        }
        Check("cross-entropy", 0, ce[0], expectedLoss, shifted);
        if (ce[0] < -shifted) problems.Add($"cross-entropy is negative: {ce[0]}");
        Tape.Current.Reset();
        return problems;
    }
}
