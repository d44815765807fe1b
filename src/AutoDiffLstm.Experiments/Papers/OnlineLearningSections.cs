using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// The online-learning and Lyapunov sections of the second-order-and-online paper: RTRL against BPTT (exactness, per
/// built-in cell), UORO's variance, the time and memory per step of RTRL, UORO and BPTT, and the largest Lyapunov
/// exponent against the measured gradient decay. <see cref="Run"/> registers the tables, figures and numbers on the
/// paper's context and returns the sections' Markdown (prose plus generated blocks) for the paper to include.
/// </summary>
internal static class OnlineLearningSections
{
    /// <summary>Runs the studies at the context's scale and returns the Markdown of the two sections.</summary>
    public static string Run(PaperContext context)
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
        context.Number("lyapunov-max-gap", lyapunov.Max(r => Math.Abs(r.PredictedLog10ChangePerStep - r.MeasuredLog10ChangePerStep)), "F3");
        context.Table("lyapunov", $"Largest Lyapunov exponent λ_1 (nats per step) and sum of the spectrum, against the change of log10 ‖dL/dh_t‖ per step back from a loss on step {lyapunovSteps}, on one and the same sequence (H = {lyapunovHidden}; the rho rows are tanh RNNs with W_hh = rho × orthogonal and inputs of std 0.1).",
            [new("network"), new("λ_1", "F4"), new("Σ λ_i", "F3"), new("predicted λ_1 / ln 10", "F4"), new("measured log10 change per step", "F4")],
            lyapunov.Select(r => (IReadOnlyList<object?>)[r.Label, r.Spectrum.Largest, r.Spectrum.Sum, r.PredictedLog10ChangePerStep, r.MeasuredLog10ChangePerStep]));
        context.Figure("lyapunov-vs-gradient", "Measured gradient change per step against λ_1 / ln 10, one point per network; on the diagonal the largest exponent alone accounts for the vanishing or exploding gradient.",
            LyapunovStudy.Figure(lyapunov));
        return Markdown;
    }

    private static string Block(string kind, string name) => $"<!-- generated:{kind}:{name} -->\n<!-- /generated -->";

    private static string Num(string name) => $"<!-- generated:number:{name} --><!-- /generated -->";

    private static readonly string Markdown = $"""
        ## Online gradients: RTRL and UORO

        Real-time recurrent learning (Williams and Zipser 1989) carries the sensitivity S_t = ds_t/dθ forward,
        S_t = ∂F/∂s_{"{"}t-1{"}"} S_{"{"}t-1{"}"} + ∂F/∂θ, and adds ∂ℓ_t/∂s_t S_t to the gradient at every step. The toolkit forms
        S_t with one forward-mode tangent pass per parameter through the recorded step (`Rtrl<T>`), so it needs no
        hand-derived Jacobian for any cell. Over {Num("rtrl-exact-steps")} steps at H = {Num("rtrl-exact-hidden")}, the largest
        relative difference from backpropagation through time over all {Num("rtrl-cell-count")} built-in cells is {Num("rtrl-max-difference")}:

        {Block("table", "rtrl-exactness")}

        UORO (Tallec and Ollivier 2017) keeps only a rank-one estimate s̃ θ̃^T of S_t, refreshed with random signs and
        the normalisers ρ0, ρ1 of the paper's Algorithm 1 (`Uoro<T>`): one tangent pass and one reverse pass per step.
        Its spread around the exact gradient, over {Num("uoro-draws")} draws at H = {Num("uoro-hidden")}, is a relative
        variance between {Num("uoro-min-variance")} and {Num("uoro-max-variance")}:

        {Block("table", "uoro-variance")}

        {Block("figure", "uoro-variance")}

        What each costs per step ({Num("cost-steps")}-step sequences, median of {Num("cost-repeats")} runs):

        {Block("table", "online-costs")}

        ## Lyapunov exponents and the decay of the gradient

        The vanishing and exploding gradients of the first paper come down to one number per network: the largest
        Lyapunov exponent λ_1 of the state dynamics, computed by QR iteration over the state Jacobians along the
        trajectory (Vogt et al. 2022; Engelken, Wolf and Abbott 2023; `Lyapunov.Spectrum`). Since dL/dh_t is the product
        of the transposed Jacobians from t to the loss, its norm changes by about λ_1 / ln 10 decades per step back.
        Over {Num("lyapunov-steps")} steps at H = {Num("lyapunov-hidden")} the largest gap between prediction and measurement is {Num("lyapunov-max-gap")} decades per step:

        {Block("table", "lyapunov")}

        {Block("figure", "lyapunov-vs-gradient")}
        """;
}
