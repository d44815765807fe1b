using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>One cell's gradient-flow curve in a comparison.</summary>
public sealed record FlowCurve(string Label, GradientFlowResult Result);

/// <summary>
/// Vanishing and exploding gradients made visible: ||dL/dh_t|| for a loss on the last step, plotted against the
/// distance T - 1 - t from the loss on a log axis, so geometric decay or growth is a straight line.
/// </summary>
public static class GradientFlowStudy
{
    /// <summary>The cells of the comparison: which label, which catalogue cell, which forget-gate bias.</summary>
    public sealed record Contender(string Label, string Cell, double? ForgetBias = null);

    /// <summary>RNN vs LSTM (PyTorch's default init, and forget-gate bias 1 and 3) vs GRU.</summary>
    public static IReadOnlyList<Contender> DefaultContenders { get; } =
    [
        new("rnn (tanh)", "rnn"), new(CellLabels.Of("lstm", null), "lstm"), new("lstm, forget bias 1", "lstm", 1.0), new("lstm, forget bias 3", "lstm", 3.0), new("gru", "gru"),
    ];

    /// <summary>Measures every contender on the same random inputs ([steps, batch, inputSize] standard normal), in double.</summary>
    public static IReadOnlyList<FlowCurve> Compare(IEnumerable<Contender> contenders, int steps, int hidden, int batch, int inputSize, ulong seed)
    {
        if (steps < 2 || hidden < 1 || batch < 1 || inputSize < 1)
            throw new ArgumentException($"GradientFlowStudy: need steps >= 2 and positive sizes, got steps={steps}, hidden={hidden}, batch={batch}, input={inputSize}.");
        var inputs = Tensor.RandomNormal<double>(new Rng(seed), [steps, batch, inputSize]);
        return contenders.Select(c =>
        {
            var cell = CellCatalog.Cell<double>(c.Cell, inputSize, hidden, new Rng(seed + 1), c.ForgetBias);
            return new FlowCurve(c.Label, GradientFlow.Measure(cell, inputs, new Rng(seed + 2)));
        }).ToArray();
    }

    /// <summary>
    /// The exploding side (Pascanu et al. 2013, Section 3): a tanh RNN whose recurrent matrix is a random orthogonal
    /// matrix scaled to spectral radius rho, with small inputs and zero biases. For rho &lt; 1 the gradient decays like
    /// rho^(T-t); above 1 it grows until the state saturates tanh.
    /// </summary>
    public static IReadOnlyList<FlowCurve> SpectralRadiusSweep(IEnumerable<double> radii, int steps, int hidden, int batch, ulong seed, double inputScale = 0.1)
    {
        var inputs = Tensor.RandomNormal<double>(new Rng(seed), [steps, batch, 1], 0, inputScale);
        return radii.Select(rho => new FlowCurve($"rho = {rho:0.##}", GradientFlow.Measure(ScaledOrthogonalRnn(rho, hidden, seed), inputs, new Rng(seed + 2)))).ToArray();
    }

    /// <summary>
    /// The cell of <see cref="SpectralRadiusSweep"/>: a tanh Elman cell with one input, W_hh = rho Q for a random
    /// orthogonal Q (so every singular value of W_hh is rho) and zero biases. Near h = 0, where tanh' = 1, the step
    /// Jacobian diag(1 - h_t^2) W_hh is rho Q and ||dh_T/dh_t|| = rho^(T-t) exactly.
    /// </summary>
    public static ElmanCell<double> ScaledOrthogonalRnn(double rho, int hidden, ulong seed)
    {
        if (!(rho > 0) || !double.IsFinite(rho)) throw new ArgumentOutOfRangeException(nameof(rho), rho, $"GradientFlowStudy: the spectral radius must be positive and finite, got {rho}.");
        var cell = new ElmanCell<double>(1, hidden, new Rng(seed + 1));
        var parameters = cell.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        parameters["weight_hh"] = Init.Orthogonal<double>(new Rng(seed + 3), [hidden, hidden]) * rho;
        parameters["bias_ih"] = Tensor.Zeros<double>(hidden);
        parameters["bias_hh"] = Tensor.Zeros<double>(hidden);
        return (ElmanCell<double>)cell.WithParameters(parameters);
    }

    /// <summary>Gate statistics of each contender over the same kind of inputs (cells that report no gates give an empty list).</summary>
    public static IReadOnlyList<(string Label, IReadOnlyList<GateTrace> Gates)> Gates(IEnumerable<Contender> contenders, int steps, int hidden, int batch, int inputSize, ulong seed)
    {
        var inputs = Tensor.RandomNormal<double>(new Rng(seed), [steps, batch, inputSize]);
        return contenders.Select(c => (c.Label, GateStatistics.Measure(CellCatalog.Cell<double>(c.Cell, inputSize, hidden, new Rng(seed + 1), c.ForgetBias), inputs))).ToArray();
    }

    /// <summary>Mean activation (solid) of every gate over time; saturation fractions are in the CSV.</summary>
    public static LineFigure GateFigure(string label, IReadOnlyList<GateTrace> gates) => new(
        $"{label}: mean gate activation over time", "time step t", "mean activation", LogY: false,
        gates.Select(g => new Series(g.Gate, Enumerable.Range(0, g.Mean.Length).Select(t => (double)t).ToArray(), g.Mean)).ToArray());

    /// <summary>The figure: ||dL/dh_t|| against steps back from the loss, log scale.</summary>
    public static LineFigure Figure(IReadOnlyList<FlowCurve> curves, string title, string stateName = "h") => new(
        title, "steps back from the loss (T - 1 - t)", $"||dL/d{stateName}_t||", LogY: true,
        curves.Select(c =>
        {
            int s = c.Result.StateNames.ToList().IndexOf(stateName);
            var norms = s < 0 ? [] : c.Result.Norms[s];
            return new Series(c.Label, Enumerable.Range(0, norms.Length).Select(k => (double)k).ToArray(), norms.Reverse().ToArray());
        }).Where(s => s.Y.Length > 0).ToArray());
}
