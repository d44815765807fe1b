using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>One network's Lyapunov spectrum beside the measured decay (or growth) of its gradient on the same sequence.</summary>
/// <param name="Label">The network's label (cell, or spectral radius).</param>
/// <param name="Spectrum">The full Lyapunov spectrum along the sequence.</param>
/// <param name="MeasuredLog10ChangePerStep">Average change of log10 ||dL/dh_t|| per step back from a loss on the last step (<see cref="GradientFlowResult.Log10SlopePerStep"/>).</param>
public sealed record LyapunovRow(string Label, LyapunovSpectrum Spectrum, double MeasuredLog10ChangePerStep)
{
    /// <summary>λ_1 / ln 10, the change per step the spectrum predicts.</summary>
    public double PredictedLog10ChangePerStep => Spectrum.PredictedLog10GradientChangePerStep;
}

/// <summary>
/// The vanishing/exploding-gradient story in one number per network: the largest Lyapunov exponent λ_1 of the state
/// dynamics against the measured rate at which ||dL/dh_t|| changes per step back from the loss. Both are taken on one
/// and the same sequence (the first of the gradient-flow study's inputs), so the only difference is what each averages:
/// λ_1 the growth of the most expanding direction, the gradient the growth of one particular direction (the loss's).
/// </summary>
public static class LyapunovStudy
{
    /// <summary>The cells of a gradient-flow comparison, built as <see cref="GradientFlowStudy.Compare"/> builds them.</summary>
    public static IReadOnlyList<LyapunovRow> Cells(IEnumerable<GradientFlowStudy.Contender> contenders, int steps, int hidden, int inputSize, ulong seed)
    {
        var inputs = Tensor.RandomNormal<double>(new Rng(seed), [steps, 1, inputSize]);
        return contenders.Select(c => Row(c.Label, CellCatalog.Cell<double>(c.Cell, inputSize, hidden, new Rng(seed + 1), c.ForgetBias), inputs, seed)).ToArray();
    }

    /// <summary>The tanh RNNs of <see cref="GradientFlowStudy.SpectralRadiusSweep"/>, one per radius.</summary>
    public static IReadOnlyList<LyapunovRow> Radii(IEnumerable<double> radii, int steps, int hidden, ulong seed, double inputScale = 0.1)
    {
        var inputs = Tensor.RandomNormal<double>(new Rng(seed), [steps, 1, 1], 0, inputScale);
        return radii.Select(rho => Row($"rho = {rho:0.##}", GradientFlowStudy.ScaledOrthogonalRnn(rho, hidden, seed), inputs, seed)).ToArray();
    }

    /// <summary>Measured against predicted change per step, one point per network, with the diagonal where they agree.</summary>
    public static LineFigure Figure(IReadOnlyList<LyapunovRow> rows)
    {
        var all = rows.SelectMany(r => new[] { r.PredictedLog10ChangePerStep, r.MeasuredLog10ChangePerStep }).Where(double.IsFinite).ToArray();
        double lo = all.Length == 0 ? -1 : all.Min(), hi = all.Length == 0 ? 1 : all.Max(), pad = Math.Max(0.05 * (hi - lo), 0.01);
        var series = new List<Series> { new("measured = predicted", [lo - pad, hi + pad], [lo - pad, hi + pad]) };
        series.AddRange(rows.Select(r => new Series(r.Label, [r.PredictedLog10ChangePerStep], [r.MeasuredLog10ChangePerStep]) { Markers = true }));
        return new LineFigure("Largest Lyapunov exponent vs gradient decay", "predicted: lambda_1 / ln 10 per step",
            "measured: log10 change of ||dL/dh_t|| per step back", LogY: false, series);
    }

    private static LyapunovRow Row(string label, RecurrentCell<double> cell, Tensor<double> inputs, ulong seed) =>
        new(label, Lyapunov.Spectrum(cell, inputs), GradientFlow.Measure(cell, inputs, new Rng(seed + 2)).Log10SlopePerStep);
}
