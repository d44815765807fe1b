namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// RetainGrad on a hand-unrolled tanh RNN h_t = tanh(h_{t-1} W + x_t) with loss L = sum_t sum(c_t * h_t): every
/// retained dL/dh_t must equal the analytic backpropagation-through-time recursion
/// dL/dh_t = c_t + ((dL/dh_{t+1}) * (1 - h_{t+1}^2)) W^T, and intermediates that were not retained must be released.
/// </summary>
public class RetainGradTests
{
    private const int Hidden = 3, Steps = 5;

    private sealed record Unrolled(Tensor<double> W, Tensor<double> H0, Tensor<double>[] H, Tensor<double>[] PreActivations, double[][] C);

    private static Unrolled Forward(bool retain)
    {
        var rng = new Rng(7);
        var w = Tensor.RandomNormal<double>(rng, [Hidden, Hidden], std: 0.6).RequireGrad();
        var h0 = Tensor.RandomNormal<double>(rng, [1, Hidden]).RequireGrad();
        var hs = new Tensor<double>[Steps + 1];
        var pre = new Tensor<double>[Steps + 1];
        var c = new double[Steps + 1][];
        hs[0] = h0;
        Tensor<double>? loss = null;
        for (int t = 1; t <= Steps; t++)
        {
            var x = Tensor.RandomNormal<double>(rng, [1, Hidden]);
            pre[t] = hs[t - 1].MatMul(w) + x;
            hs[t] = pre[t].Tanh();
            if (retain) hs[t].RetainGrad();
            c[t] = Tensor.RandomNormal<double>(rng, [Hidden]).ToArray();
            var term = (hs[t] * Tensor.FromArray(c[t], 1, Hidden)).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.Backward();
        return new Unrolled(w, h0, hs, pre, c);
    }

    /// <summary>dL/dh_t for t = 0..Steps by the BPTT recursion, from the forward values.</summary>
    private static double[][] AnalyticHiddenGradients(Unrolled r)
    {
        var g = new double[Steps + 1][];
        g[Steps] = (double[])r.C[Steps].Clone();
        for (int t = Steps; t >= 1; t--)
        {
            var h = r.H[t].ToArray();
            var delta = g[t].Select((v, j) => v * (1 - h[j] * h[j])).ToArray();
            var prev = new double[Hidden];
            for (int i = 0; i < Hidden; i++)
            {
                for (int j = 0; j < Hidden; j++) prev[i] += delta[j] * r.W[i, j];
                if (t - 1 >= 1) prev[i] += r.C[t - 1][i];
            }
            g[t - 1] = prev;
        }
        return g;
    }

    [Fact]
    public void RetainedHiddenStatesHoldTheirBackpropagationThroughTimeGradient()
    {
        var r = Forward(retain: true);
        var expected = AnalyticHiddenGradients(r);
        for (int t = 1; t <= Steps; t++) Approx.Equal(expected[t], r.H[t].Grad, 1e-12, $"dL/dh_{t}");
        Approx.Equal(expected[0], r.H0.Grad, 1e-12, "dL/dh_0 (leaf)");
    }

    [Fact]
    public void IntermediatesThatWereNotRetainedAreReleasedAfterBackward()
    {
        var r = Forward(retain: true);
        for (int t = 1; t <= Steps; t++) Assert.Null(r.PreActivations[t].Grad);
        var plain = Forward(retain: false);
        for (int t = 1; t <= Steps; t++) Assert.Null(plain.H[t].Grad);
        Assert.NotNull(plain.W.Grad);
    }

    [Fact]
    public void RetainingGradientsDoesNotChangeTheLeafGradients()
    {
        var retained = Forward(retain: true);
        var plain = Forward(retain: false);
        Assert.Equal(plain.W.Grad!.ToArray(), retained.W.Grad!.ToArray());
        Assert.Equal(plain.H0.Grad!.ToArray(), retained.H0.Grad!.ToArray());
    }
}
