using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// The online-learning and Lyapunov sections of the second-order-and-online paper: RTRL against BPTT (exactness, per
/// built-in cell), UORO's variance, the time and memory per step of RTRL, UORO and BPTT, and the largest Lyapunov
/// exponent against the measured gradient decay. <see cref="Run"/> registers the tables, figures and numbers on the
/// paper's context; the prose that quotes them is in papers/second-order-and-online/paper.md, like every paper's.
/// </summary>
internal static class OnlineLearningSections
{
    /// <summary>Runs the studies at the context's scale and registers their outputs.</summary>
    public static void Run(PaperContext context)
    {
        const ulong seed = 17;
        var cells = CellRegistry.All.Where(i => i.BuiltIn).Select(i => i.Name).ToArray();
        int exactSteps = context.Pick(20, 4), exactHidden = context.Pick(4, 2);
        context.Log($"RTRL against BPTT for {cells.Length} cells");
        var exactness = cells.Select(c => (Cell: c, Difference: OnlineLearningStudy.RtrlAgainstBptt(c, exactHidden, exactSteps, seed))).ToArray();
        context.Number("rtrl-max-difference", exactness.Max(e => e.Difference), "0.0e+0");
        context.Number("rtrl-cell-count", cells.Length, "F0");
        context.Number("rtrl-exact-steps", exactSteps, "F0");
        context.Number("rtrl-exact-hidden", exactHidden, "F0");
        context.Table("rtrl-exactness", "RTRL's accumulated gradient against BPTT's for every built-in cell (double, one sequence, a loss at every step): the largest absolute difference over all parameter scalars relative to the largest BPTT component.",
            [new("cell"), new("max |RTRL - BPTT| / max |BPTT|", "0.0e+0")], exactness.Select(e => (IReadOnlyList<object?>)[e.Cell, e.Difference]));

        int[] hiddens = context.Pick<int[]>([4, 8, 16, 32], [2, 3]);
        int costSteps = context.Pick(20, 3), repeats = context.Pick(3, 1);
        context.Log($"cost per step at H = {string.Join(", ", hiddens)}");
        var costs = OnlineLearningStudy.Costs(["rnn", "lstm"], hiddens, costSteps, repeats, seed);
        // The LSTM at the largest H, quoted in the prose: where the methods differ most.
        int largest = hiddens.Max();
        context.Number("cost-max-hidden", largest, "F0");
        foreach (var r in costs.Where(r => r.Cell == "lstm" && r.Hidden == largest))
        {
            context.Number($"cost-lstm-{r.Method}-ms", r.MillisecondsPerStep, "F3");
            context.Number($"cost-lstm-{r.Method}-carried", r.CarriedNumbers, "F0");
        }
        context.Number("cost-lstm-parameters", costs.First(r => r.Cell == "lstm" && r.Hidden == largest).Parameters, "F0");
        context.Number("cost-steps", costSteps, "F0");
        context.Number("cost-repeats", repeats, "F0");
        context.Table("online-costs", $"Time and memory per step (double, batch 1, one input, a loss at every step, sequences of {costSteps} steps; median of {repeats} runs after a warm-up). Carried numbers: what the method keeps between steps for the gradient (for BPTT every state of the sequence, so it grows with T); allocated bytes: the thread's allocation counter per step.",
            [new("method"), new("cell"), new("H", "0"), new("parameters P", "0"), new("ms per step", "F3"), new("carried numbers", "0"), new("allocated kB per step", "F1")],
            costs.Select(r => (IReadOnlyList<object?>)[r.Method, r.Cell, r.Hidden, r.Parameters, r.MillisecondsPerStep, r.CarriedNumbers, r.AllocatedBytesPerStep / 1024]));

        int[] lengths = context.Pick<int[]>([5, 10, 20, 40], [3, 5]);
        int draws = context.Pick(400, 20), varianceHidden = context.Pick(4, 2);
        context.Log($"UORO variance over {draws} draws");
        var variance = OnlineLearningStudy.UoroVariance(["rnn", "lstm"], varianceHidden, lengths, draws, seed);
        context.Number("uoro-draws", draws, "F0");
        context.Number("uoro-hidden", varianceHidden, "F0");
        context.Number("uoro-min-variance", variance.Min(r => r.RelativeVariance), "G2");
        context.Number("uoro-max-variance", variance.Max(r => r.RelativeVariance), "G2");
        // Unbiased means the mean's error is about the sampling error sqrt(variance / draws); this is the largest ratio.
        context.Number("uoro-max-bias-ratio", variance.Max(r => r.RelativeBias / Math.Sqrt(r.RelativeVariance / r.Draws)), "F1");
        context.Number("uoro-min-cosine", variance.Min(r => r.CosineOfOneDraw), "F2");
        context.Number("uoro-max-cosine", variance.Max(r => r.CosineOfOneDraw), "F2");
        context.Table("uoro-variance", $"UORO against the exact gradient over {draws} independent draws of the random signs (H = {varianceHidden}, double, one sequence): relative variance E‖g_UORO − g‖²/‖g‖², relative bias of the mean ‖mean g_UORO − g‖/‖g‖ (about sqrt(variance / draws) if unbiased), and the mean cosine between one draw and g.",
            [new("cell"), new("T", "0"), new("relative variance", "G3"), new("relative bias of the mean", "G3"), new("sqrt(variance / draws)", "G3"), new("mean cosine", "F3")],
            variance.Select(r => (IReadOnlyList<object?>)[r.Cell, r.Steps, r.RelativeVariance, r.RelativeBias, Math.Sqrt(r.RelativeVariance / r.Draws), r.CosineOfOneDraw]));
        context.Figure("uoro-variance", "UORO's relative variance E‖g_UORO − g‖²/‖g‖² against the sequence length.",
            new LineFigure("UORO variance against the exact gradient", "sequence length T", "relative variance", LogY: true,
                variance.GroupBy(r => r.Cell).Select(g => new Series(g.Key, g.Select(r => (double)r.Steps).ToArray(), g.Select(r => r.RelativeVariance).ToArray()) { Markers = true }).ToArray()));

        int lyapunovSteps = context.Pick(200, 12), lyapunovHidden = context.Pick(16, 3);
        double[] radii = context.Pick<double[]>([0.5, 0.8, 0.95, 1.05, 1.5, 3.0], [0.5, 1.5]);
        context.Log("Lyapunov spectra");
        var lyapunov = LyapunovStudy.Radii(radii, lyapunovSteps, lyapunovHidden, seed)
            .Concat(LyapunovStudy.Cells([new("lstm", "lstm"), new("gru", "gru"), new("rnn (default init)", "rnn")], lyapunovSteps, lyapunovHidden, 4, seed)).ToArray();
        context.Number("lyapunov-steps", lyapunovSteps, "F0");
        context.Number("lyapunov-hidden", lyapunovHidden, "F0");
        context.Number("lyapunov-network-count", lyapunov.Length, "F0");
        context.Number("lyapunov-max-gap", lyapunov.Max(r => Math.Abs(r.PredictedLog10ChangePerStep - r.MeasuredLog10ChangePerStep)), "F3");
        context.Table("lyapunov", $"Largest Lyapunov exponent λ_1 (nats per step) and sum of the spectrum, against the change of log10 ‖dL/dh_t‖ per step back from a loss on step {lyapunovSteps}, on one and the same sequence (H = {lyapunovHidden}; the rho rows are tanh RNNs with W_hh = rho × orthogonal and inputs of std 0.1).",
            [new("network"), new("λ_1", "F4"), new("Σ λ_i", "F3"), new("predicted λ_1 / ln 10", "F4"), new("measured log10 change per step", "F4")],
            lyapunov.Select(r => (IReadOnlyList<object?>)[r.Label, r.Spectrum.Largest, r.Spectrum.Sum, r.PredictedLog10ChangePerStep, r.MeasuredLog10ChangePerStep]));
        context.Figure("lyapunov-vs-gradient", "Measured gradient change per step against λ_1 / ln 10, one point per network; on the diagonal the largest exponent alone accounts for the vanishing or exploding gradient.",
            LyapunovStudy.Figure(lyapunov));
    }
}
