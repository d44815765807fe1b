using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Diagnostics;

/// <summary>
/// GradientFlow against cases whose answer is known in closed form, and against finite differences.
/// <para>
/// The closed form: a tanh Elman cell with W_hh = rho Q (Q orthogonal), zero biases and inputs of std 1e-4 stays near
/// the origin, where tanh' = 1 - h^2 is 1 to within about 1e-4. Then dL/dh_t = W_hh^T dL/dh_{t+1} = rho Q^T dL/dh_{t+1},
/// and since Q^T preserves every row's norm, ||dL/dh_t|| = rho^(T-1-t) ||dL/dh_{T-1}|| exactly in the linear limit;
/// likewise every singular value of dh_{T-1}/dh_t = (rho Q)^(T-1-t) is rho^(T-1-t).
/// </para>
/// </summary>
public class GradientFlowMeasureTests
{
    private const int Hidden = 16, Batch = 4, InputSize = 3;

    /// <summary>tanh Elman cell with W_hh = rho Q (Q a random orthogonal matrix) and zero biases.</summary>
    internal static RecurrentCell<double> ScaledOrthogonalRnn(double rho, int hidden, int inputSize, ulong seed)
    {
        var cell = new ElmanCell<double>(inputSize, hidden, new Rng(seed));
        var p = cell.NamedParameters().ToDictionary(x => x.Key, x => x.Value);
        p["weight_hh"] = Init.Orthogonal<double>(new Rng(seed + 1), [hidden, hidden], gain: rho);
        p["bias_ih"] = Tensor.Zeros<double>(hidden);
        p["bias_hh"] = Tensor.Zeros<double>(hidden);
        return cell.WithParameters(p);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(1.1)]
    public void HiddenGradientChangesByRhoPerStepInTheLinearRegime(double rho)
    {
        const int steps = 40;
        var cell = ScaledOrthogonalRnn(rho, Hidden, InputSize, seed: 11);
        var inputs = Tensor.RandomNormal<double>(new Rng(12), [steps, Batch, InputSize], 0, 1e-4);

        var result = GradientFlow.Measure(cell, inputs, new Rng(13));

        Assert.Equal(["h"], result.StateNames);
        // Measure's loss is sum(v * h_{T-1}) with v drawn from the rng it was given: the gradient at the last step is v.
        var v = Tensor.RandomNormal<double>(new Rng(13), [Batch, Hidden]);
        double vNorm = Math.Sqrt(v.ToArray().Sum(x => x * x) / Batch);
        Assert.Equal(vNorm, result.HiddenNorms[^1], 1e-12);
        Assert.InRange(result.Log10SlopePerStep, Math.Log10(rho) - 1e-4, Math.Log10(rho) + 1e-4);
        for (int t = 0; t < steps - 1; t++)
        {
            double ratio = result.HiddenNorms[t] / result.HiddenNorms[t + 1];
            Assert.True(Math.Abs(ratio / rho - 1) < 1e-3, $"rho = {rho}: step {t}: ||dL/dh_t|| / ||dL/dh_(t+1)|| = {ratio:R}, expected {rho}.");
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(1.1)]
    public void JacobianNormsArePowersOfRhoInTheLinearRegime(double rho)
    {
        const int steps = 20;
        var cell = ScaledOrthogonalRnn(rho, Hidden, InputSize, seed: 21);
        var inputs = Tensor.RandomNormal<double>(new Rng(22), [steps, 1, InputSize], 0, 1e-4);

        var norms = GradientFlow.JacobianNorms(cell, inputs);

        Assert.Equal(steps, norms.Length);
        for (int t = 0; t < steps; t++)
        {
            double expected = Math.Pow(rho, steps - 1 - t);
            Assert.True(Math.Abs(norms[t] / expected - 1) < 0.01, $"rho = {rho}: ||dh_T/dh_{t}||_2 = {norms[t]:R}, expected rho^{steps - 1 - t} = {expected:R}.");
        }
    }

    /// <summary>
    /// Measure's ||dL/dh_t|| against central differences of the loss with respect to h_t, computed by perturbing h_t
    /// (c_t held, since c_t does not depend on h_t) and running only the tail of the sequence: no backward pass involved.
    /// </summary>
    [Fact]
    public void LstmHiddenNormsAgreeWithFiniteDifferencesOfATailRun()
    {
        const int steps = 12, batch = 2, hidden = 4;
        var cell = new LstmCell<double>(InputSize, hidden, new Rng(31), forgetBias: 1.0);
        var inputs = Tensor.RandomNormal<double>(new Rng(32), [steps, batch, InputSize]);
        var result = GradientFlow.Measure(cell, inputs, new Rng(33));
        var v = Tensor.RandomNormal<double>(new Rng(33), [batch, hidden]).ToArray();

        using var noGrad = Autograd.NoGrad();
        var states = new List<RecurrentState<double>>();
        var state = cell.InitialState(batch);
        for (int t = 0; t < steps; t++) states.Add(state = cell.Next(inputs.Select(0, t), state));

        double TailLoss(int t, RecurrentState<double> s)
        {
            for (int k = t + 1; k < steps; k++) s = cell.Next(inputs.Select(0, k), s);
            var h = s[0].ToArray();
            return h.Select((x, i) => x * v[i]).Sum();
        }

        Assert.Equal(TailLoss(steps - 1, states[^1]), result.Loss, 1e-12);
        const double eps = 1e-6;
        foreach (int t in new[] { 0, 3, 7, steps - 2, steps - 1 })
        {
            double sumOfSquares = 0;
            for (int e = 0; e < batch * hidden; e++)
            {
                double Perturbed(double delta)
                {
                    var h = states[t][0].Clone();
                    h.AsWritableSpan()[e] += delta;
                    return TailLoss(t, new RecurrentState<double>(cell.StateNames, h, states[t][1]));
                }
                double g = (Perturbed(eps) - Perturbed(-eps)) / (2 * eps);
                sumOfSquares += g * g;
            }
            double expected = Math.Sqrt(sumOfSquares / batch), measured = result.HiddenNorms[t];
            Assert.True(Math.Abs(measured - expected) <= 1e-6 * expected + 1e-10,
                $"||dL/dh_{t}||: Measure gives {measured:R}, finite differences {expected:R}.");
        }
    }

    /// <summary>
    /// Both state norms against an LSTM written out by hand from primitives (not through the cell), with RetainGrad on
    /// every h_t and c_t. dL/dc_t is the full gradient reaching c_t, through h_t = o_t tanh(c_t) as well as through
    /// c_{t+1}, which is what back-propagation delivers and what the cell-state figure plots.
    /// </summary>
    [Fact]
    public void LstmNormsAgreeWithAHandWrittenUnroll()
    {
        const int steps = 15, batch = 3, hidden = 5;
        var cell = new LstmCell<double>(InputSize, hidden, new Rng(41));
        var inputs = Tensor.RandomNormal<double>(new Rng(42), [steps, batch, InputSize]);
        var result = GradientFlow.Measure(cell, inputs, new Rng(43));

        Tape.Current.Reset();
        var p = cell.Parameters;
        var h = Tensor.Zeros<double>(batch, hidden);
        var c = Tensor.Zeros<double>(batch, hidden);
        var hs = new List<Tensor<double>>();
        var cs = new List<Tensor<double>>();
        for (int t = 0; t < steps; t++)
        {
            var pre = inputs.Select(0, t).Linear(p["weight_ih"], p["bias_ih"]) + h.Linear(p["weight_hh"], p["bias_hh"]);
            var i = pre.Narrow(1, 0, hidden).Sigmoid();
            var f = pre.Narrow(1, hidden, hidden).Sigmoid();
            var g = pre.Narrow(1, 2 * hidden, hidden).Tanh();
            var o = pre.Narrow(1, 3 * hidden, hidden).Sigmoid();
            c = (f * c + i * g).RetainGrad();
            h = (o * c.Tanh()).RetainGrad();
            hs.Add(h);
            cs.Add(c);
        }
        var loss = (h * Tensor.RandomNormal<double>(new Rng(43), [batch, hidden])).Sum();
        Assert.Equal(loss.ItemAsDouble(), result.Loss, 1e-12);
        loss.Backward();

        static double Norm(Tensor<double> g, int batch) => Math.Sqrt(g.ToArray().Sum(x => x * x) / batch);
        for (int t = 0; t < steps; t++)
        {
            Assert.Equal(Norm(hs[t].Grad!, batch), result.Norms[0][t], 1e-12);
            Assert.Equal(Norm(cs[t].Grad!, batch), result.Norms[1][t], 1e-12);
        }
    }

    [Fact]
    public void AnInputOfTheWrongShapeIsRejectedWithTheExpectedShape()
    {
        var cell = new LstmCell<double>(InputSize, 4, new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => GradientFlow.Measure(cell, Tensor.Zeros<double>(5, 2, InputSize + 1), new Rng(2)));
        Assert.Contains($"[T, B, {InputSize}]", e.Message);
        Assert.Contains("[5, 2, 4]", e.Message);
        var j = Assert.Throws<ArgumentException>(() => GradientFlow.JacobianNorms(cell, Tensor.Zeros<double>(5, 2, InputSize)));
        Assert.Contains("one sequence", j.Message);
    }
}
