using AutoDiffLstm.Recurrent;
using Xunit.Abstractions;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// The tape's gradient of an unrolled LSTM against the hand-derived backpropagation through time of
/// <see cref="LstmBpttReference"/>, which shares no code with the engine.
/// </summary>
/// <remarks>
/// Why 1e-12 relative is a fair bar: both sides run the same arithmetic in double (the same products, the same sums,
/// the same activation derivatives written as s(1 - s) and 1 - tanh^2). They differ only in summation order (the tape's
/// blocked SIMD GEMM versus plain loops, per-step accumulation order of dW) and in the last bit or two of exp/tanh (the
/// vectorised TensorPrimitives versus Math). Each step adds a few units of roundoff (~1e-16 relative); through an LSTM,
/// whose forget gates contract the backward recursion, these add up roughly linearly in T. Measured: at most ~1e-14 for
/// T &lt;= 100, and at worst 1.2e-13 at T = 1000 in the saturating regime (gates pinned at 1 carry the cell gradient
/// undamped, so dW sums a thousand O(1) terms). A wrong backward rule, a missed accumulation or a gate swapped in the
/// chunk order gives errors of order 1 instead; even scaling the sigmoid derivative by (1 + 1e-10) fails this test.
/// The error is measured per tensor, max|a - b| / max|b|, so that elements whose gradient is tiny (saturated gates,
/// gradients that vanished over many steps) are judged against the tensor's scale and not against themselves.
/// </remarks>
public class LstmBpttAgreementTests(ITestOutputHelper output)
{
    private const int Batch = 2, Input = 3, Hidden = 4;
    private const double Tolerance = 1e-12;

    /// <summary>Weight regimes: ordinary, saturating (most gates pinned near 0 or 1), and a forget bias of 1.0.</summary>
    public enum Regime { Moderate, Saturating, ForgetBiasOne }

    public static TheoryData<int, Regime> Cases()
    {
        var data = new TheoryData<int, Regime>();
        foreach (int steps in new[] { 1, 2, 10, 100, 1000 })
            foreach (var regime in Enum.GetValues<Regime>()) data.Add(steps, regime);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TapeGradientsAgreeWithHandDerivedBptt(int steps, Regime regime) =>
        AssertTapeAgreesWithReference(RandomProblem(seed: (ulong)(1000 * steps + (int)regime), steps, regime));

    /// <summary>
    /// Sizes that are not multiples of the SIMD width (B * H = 6, 7, 15), so the scalar tails of the fused kernels and of
    /// the GEMM are on the path too; with B = 2, H = 4 every elementwise op runs whole vectors only.
    /// </summary>
    [Theory]
    [InlineData(100, Regime.Moderate, 2, 5, 3)]
    [InlineData(300, Regime.Saturating, 1, 1, 7)]
    [InlineData(50, Regime.ForgetBiasOne, 3, 2, 5)]
    public void TapeGradientsAgreeWithHandDerivedBpttAtOddSizes(int steps, Regime regime, int batch, int input, int hidden) =>
        AssertTapeAgreesWithReference(RandomProblem(seed: (ulong)(31 * steps + hidden), steps, regime, batch, input, hidden));

    private void AssertTapeAgreesWithReference(LstmBpttProblem p)
    {
        var expectedForward = LstmBpttReference.Forward(p);
        var expected = LstmBpttReference.Backward(p);

        var leaves = Leaves(p);
        var (outputs, hT, cT, _, _) = TapeLstm(leaves.X, leaves.H0, leaves.C0, leaves.WeightIh, leaves.WeightHh, leaves.BiasIh, leaves.BiasHh);
        var loss = TapeLoss(p, outputs, hT, cT);
        loss.Backward();

        AssertClose("outputs h_1..h_T", outputs.ToArray(), expectedForward.Outputs);
        AssertClose("h_T", hT.ToArray(), expectedForward.HT);
        AssertClose("c_T", cT.ToArray(), expectedForward.CT);
        AssertClose("loss", [loss.Item()], [expectedForward.Loss]);

        AssertClose("dL/dW_ih", GradOf(leaves.WeightIh), expected.WeightIh);
        AssertClose("dL/dW_hh", GradOf(leaves.WeightHh), expected.WeightHh);
        AssertClose("dL/db_ih", GradOf(leaves.BiasIh), expected.BiasIh);
        AssertClose("dL/db_hh", GradOf(leaves.BiasHh), expected.BiasHh);
        AssertClose("dL/dx", GradOf(leaves.X), expected.X);
        AssertClose("dL/dh0", GradOf(leaves.H0), expected.H0);
        AssertClose("dL/dc0", GradOf(leaves.C0), expected.C0);
    }

    /// <summary>
    /// The total gradient reaching every h_t and c_t (output term plus what step t+1 sends back), read off the tape
    /// with RetainGrad, against the reference's per-step dL/dh_t and dL/dc_t.
    /// </summary>
    [Theory]
    [InlineData(10, Regime.Moderate)]
    [InlineData(100, Regime.ForgetBiasOne)]
    public void PerStepHiddenAndCellGradientsAgreeWithHandDerivedBptt(int steps, Regime regime)
    {
        var p = RandomProblem(seed: 77 + (ulong)steps, steps, regime);
        var expected = LstmBpttReference.Backward(p);
        var leaves = Leaves(p);
        var (outputs, hT, cT, hs, cs) = TapeLstm(leaves.X, leaves.H0, leaves.C0, leaves.WeightIh, leaves.WeightHh, leaves.BiasIh, leaves.BiasHh);
        foreach (var t in hs.Concat(cs)) t.RetainGrad();
        TapeLoss(p, outputs, hT, cT).Backward();

        AssertClose("dL/dh_t for all t", hs.SelectMany(GradOf).ToArray(), expected.HiddenPerStep);
        AssertClose("dL/dc_t for all t", cs.SelectMany(GradOf).ToArray(), expected.CellPerStep);
    }

    /// <summary>
    /// The reference's hand-written backward against central differences of its own forward: the reference is checked
    /// without the engine, so agreement above cannot come from both sides sharing a mistake.
    /// </summary>
    [Theory]
    [InlineData(Regime.Moderate)]
    [InlineData(Regime.Saturating)]
    [InlineData(Regime.ForgetBiasOne)]
    public void ReferenceBackwardMatchesFiniteDifferencesOfReferenceForward(Regime regime)
    {
        var p = RandomProblem(seed: 5 + (ulong)regime, steps: 4, regime);
        var g = LstmBpttReference.Backward(p);
        var pairs = new (string Name, double[] Values, double[] Grad)[]
        {
            ("W_ih", p.WeightIh, g.WeightIh), ("W_hh", p.WeightHh, g.WeightHh), ("b_ih", p.BiasIh, g.BiasIh),
            ("b_hh", p.BiasHh, g.BiasHh), ("x", p.X, g.X), ("h0", p.H0, g.H0), ("c0", p.C0, g.C0),
        };
        const double step = 1e-6;
        foreach (var (name, values, grad) in pairs)
        {
            var numeric = new double[values.Length];
            for (int k = 0; k < values.Length; k++)
            {
                double original = values[k];
                values[k] = original + step;
                double plus = LstmBpttReference.Forward(p).Loss;
                values[k] = original - step;
                double minus = LstmBpttReference.Forward(p).Loss;
                values[k] = original;
                numeric[k] = (plus - minus) / (2 * step);
            }
            // Central differences with h = 1e-6 carry ~1e-10 roundoff and ~1e-12 truncation error on an O(1) loss.
            AssertClose($"reference dL/d{name} vs finite differences", grad, numeric, tolerance: 1e-7);
        }
    }

    /// <summary>The tape's LSTM gradient against finite differences through the engine's own GradCheck (tiny case).</summary>
    [Fact]
    public void TapeLstmGradientsMatchFiniteDifferences()
    {
        var p = RandomProblem(seed: 9, steps: 3, Regime.Moderate);
        var l = Leaves(p);
        Tensor<double>[] inputs = [l.X, l.H0, l.C0, l.WeightIh, l.WeightHh, l.BiasIh, l.BiasHh];
        var report = GradCheck.Check<double>(v =>
        {
            var (outputs, hT, cT, _, _) = TapeLstm(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
            return TapeLoss(p, outputs, hT, cT);
        }, inputs, new GradCheckOptions { Mode = GradCheckMode.FullJacobian });
        Assert.True(report.Passed, report.ToString());
    }

    // ---- The LSTM on the tape. This is the one place to swap for the real LstmLayer once it exists. ----

    /// <summary>
    /// The toolkit's own LSTM: a single-layer <see cref="RecurrentLayer{T}"/> of <see cref="LstmCell{T}"/> rebuilt over
    /// the given tensors (PyTorch names), run from (h0, c0) with per-step states kept. Returns the outputs [T, B, H],
    /// the final state, and the per-step h_t and c_t tensors.
    /// </summary>
    private static (Tensor<double> Outputs, Tensor<double> HT, Tensor<double> CT, Tensor<double>[] Hs, Tensor<double>[] Cs) TapeLstm(
        Tensor<double> x, Tensor<double> h0, Tensor<double> c0,
        Tensor<double> weightIh, Tensor<double> weightHh, Tensor<double> biasIh, Tensor<double> biasHh)
    {
        var layer = RecurrentLayer.Lstm<double>(x.Shape[2], h0.Shape[1], new Rng(0)).WithParameters(
        [
            new("weight_ih_l0", weightIh), new("weight_hh_l0", weightHh), new("bias_ih_l0", biasIh), new("bias_hh_l0", biasHh),
        ]);
        var result = layer.Forward(x, new SequenceOptions<double> { InitialStates = [new RecurrentState<double>(["h", "c"], h0, c0)] });
        var steps = result.Steps(0);
        var final = result.FinalState(0);
        return (result.Output, final["h"], final["c"], steps.Select(s => s["h"]).ToArray(), steps.Select(s => s["c"]).ToArray());
    }

    // ---- Test plumbing: problem generation and comparison, independent of how the LSTM is built. ----

    /// <summary>L = sum_t &lt;V_t, h_t&gt; + &lt;U_h, h_T&gt; + &lt;U_c, c_T&gt; on the tape.</summary>
    private static Tensor<double> TapeLoss(LstmBpttProblem p, Tensor<double> outputs, Tensor<double> hT, Tensor<double> cT)
    {
        var v = Tensor.FromArray(p.V, p.Steps, p.Batch, p.Hidden);
        var uh = Tensor.FromArray(p.Uh, p.Batch, p.Hidden);
        var uc = Tensor.FromArray(p.Uc, p.Batch, p.Hidden);
        return (outputs * v).Sum() + (hT * uh).Sum() + (cT * uc).Sum();
    }

    private sealed record TapeLeaves(
        Tensor<double> X, Tensor<double> H0, Tensor<double> C0,
        Tensor<double> WeightIh, Tensor<double> WeightHh, Tensor<double> BiasIh, Tensor<double> BiasHh);

    /// <summary>The problem's arrays as fresh leaves that require gradients (copies: the problem stays untouched).</summary>
    private static TapeLeaves Leaves(LstmBpttProblem p) => new(
        Tensor.FromArray(p.X, p.Steps, p.Batch, p.Input).RequireGrad(),
        Tensor.FromArray(p.H0, p.Batch, p.Hidden).RequireGrad(),
        Tensor.FromArray(p.C0, p.Batch, p.Hidden).RequireGrad(),
        Tensor.FromArray(p.WeightIh, 4 * p.Hidden, p.Input).RequireGrad(),
        Tensor.FromArray(p.WeightHh, 4 * p.Hidden, p.Hidden).RequireGrad(),
        Tensor.FromArray(p.BiasIh, 4 * p.Hidden).RequireGrad(),
        Tensor.FromArray(p.BiasHh, 4 * p.Hidden).RequireGrad());

    private static double[] GradOf(Tensor<double> t) =>
        t.Grad?.ToArray() ?? throw new Xunit.Sdk.XunitException($"No gradient reached a tensor of shape {t.ShapeText}.");

    /// <summary>
    /// Random problem. Moderate: weights and biases N(0, 0.5^2). Saturating: weights N(0, 4^2), so pre-activations have
    /// a standard deviation near 10 and most gates sit at 0 or 1. ForgetBiasOne: weights N(0, 0.3^2), the forget rows of
    /// b_ih set to 1.0 and those of b_hh to 0 (the common initialisation that keeps f near 0.73 and long memory).
    /// Inputs and the loss weights V, U_h, U_c are N(0, 1); h0 and c0 are N(0, 0.5^2).
    /// </summary>
    private static LstmBpttProblem RandomProblem(ulong seed, int steps, Regime regime, int batch = Batch, int input = Input, int hidden = Hidden)
    {
        var rng = new Rng(seed);
        double[] Normal(int n, double std) => Enumerable.Range(0, n).Select(_ => std * rng.NextNormal()).ToArray();
        int g = 4 * hidden;
        double weightStd = regime switch { Regime.Saturating => 4.0, Regime.ForgetBiasOne => 0.3, _ => 0.5 };
        double biasStd = regime == Regime.Saturating ? 4.0 : 0.5;
        var wIh = Normal(g * input, weightStd);
        var wHh = Normal(g * hidden, weightStd);
        var bIh = Normal(g, biasStd);
        var bHh = Normal(g, biasStd);
        if (regime == Regime.ForgetBiasOne)
            for (int u = hidden; u < 2 * hidden; u++) (bIh[u], bHh[u]) = (1.0, 0.0);
        return new LstmBpttProblem(steps, batch, input, hidden, wIh, wHh, bIh, bHh,
            X: Normal(steps * batch * input, 1.0), H0: Normal(batch * hidden, 0.5), C0: Normal(batch * hidden, 0.5),
            V: Normal(steps * batch * hidden, 1.0), Uh: Normal(batch * hidden, 1.0), Uc: Normal(batch * hidden, 1.0));
    }

    /// <summary>
    /// Relative error of a whole tensor: max|actual - expected| / max(max|expected|, tiny). Fails on NaN, on a length
    /// mismatch, and when the error exceeds the tolerance.
    /// </summary>
    private void AssertClose(string what, double[] actual, double[] expected, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxRef = 0;
        for (int k = 0; k < expected.Length; k++)
        {
            double d = Math.Abs(actual[k] - expected[k]);
            if (double.IsNaN(d)) throw new Xunit.Sdk.XunitException($"{what}: element {k} is NaN (actual {actual[k]}, expected {expected[k]}).");
            maxDiff = Math.Max(maxDiff, d);
            maxRef = Math.Max(maxRef, Math.Abs(expected[k]));
        }
        double relative = maxDiff / Math.Max(maxRef, 1e-300);
        output.WriteLine($"{what}: relative error {relative:G3} (max |expected| {maxRef:G3})");
        Assert.True(relative <= tolerance, $"{what}: relative error {relative:G3} exceeds {tolerance:G3} (max |diff| {maxDiff:G3}, max |expected| {maxRef:G3}).");
    }
}
