using System.Globalization;
using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// "Gradient flow through time in RNNs and LSTMs": how far a loss on the last step reaches back through an Elman RNN,
/// an IRNN, an LSTM and a GRU; the spectral radius of W_hh as the rate of vanishing or growth (Bengio et al. 1994;
/// Pascanu et al. 2013); the LSTM cell state's decay set by the forget gate (Gers et al. 2000) and its initial bias;
/// and global-norm clipping on a configuration whose gradients explode.
/// </summary>
public sealed class GradientFlowPaper : IPaper
{
    /// <inheritdoc/>
    public string Id => "gradient-flow";

    /// <inheritdoc/>
    public string Title => "Gradient flow through time in RNNs and LSTMs";

    /// <summary>The spectral radii of the sweep: vanishing, the edge, and growth.</summary>
    public static IReadOnlyList<double> Radii { get; } = [0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.5, 2.0];

    /// <summary>The forget-gate biases compared.</summary>
    public static IReadOnlyList<double> ForgetBiases { get; } = [0, 1, 3];

    private const int InputSize = 4;

    // Small inputs keep the tanh RNN near its linear regime, where the theory of the sweep holds exactly.
    private const double RadiusInputScale = 0.1;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <inheritdoc/>
    public void Run(PaperContext context)
    {
        ulong[] seeds = context.Pick<ulong[]>([1, 2, 3, 4, 5], [1, 2]);
        int steps = context.Pick(256, 32), hidden = context.Pick(32, 8), batch = context.Pick(8, 2);
        context.Text("seeds", string.Join(", ", seeds));
        context.Number("seed-count", seeds.Length, "F0");
        context.Number("flow-steps", steps, "F0");
        context.Number("flow-hidden", hidden, "F0");
        context.Number("flow-batch", batch, "F0");
        context.Number("flow-input-size", InputSize, "F0");
        CompareCells(context, seeds, steps, hidden, batch);
        RadiusSweep(context, seeds, context.Pick(200, 32), hidden, batch);
        ForgetGate(context, seeds, steps, hidden, batch);
        Clipping(context, context.Pick<ulong[]>([1, 2, 3], [1]));
    }

    private static void CompareCells(PaperContext context, ulong[] seeds, int steps, int hidden, int batch)
    {
        context.Log($"gradient flow of rnn, irnn, lstm, gru over {steps} steps, seeds {string.Join(", ", seeds)}");
        GradientFlowStudy.Contender[] cells = [new("rnn (tanh)", "rnn"), new("irnn", "irnn"), new(CellLabels.Of("lstm", null), "lstm"), new("gru", "gru")];
        var perSeed = seeds.Select(s => GradientFlowStudy.Compare(cells, steps, hidden, batch, InputSize, s)).ToArray();
        context.Figure("flow-cells", $"||dL/dh_t|| against the distance from a loss on the last of {steps} steps (seed {seeds[0]}), H = {hidden}, PyTorch's default initialisation (IRNN: W_hh = I), standard normal inputs.",
            GradientFlowStudy.Figure(perSeed[0], $"Gradient reaching back from a loss at step {steps}"));
        var rows = new List<IReadOnlyList<object?>>();
        for (int c = 0; c < cells.Length; c++)
        {
            var slopes = perSeed.Select(p => p[c].Result.Log10SlopePerStep).ToArray();
            var ratios = perSeed.Select(p => p[c].Result.HiddenNorms[0] / p[c].Result.HiddenNorms[^1]).ToArray();
            string until = string.Join(", ", perSeed.Select(p => p[c].Result.StepsUntilBelow(1e-3)?.ToString(Invariant) ?? "never"));
            rows.Add([cells[c].Label, slopes.Average(), slopes.Min(), slopes.Max(), PaperRuns.Median(ratios), until]);
            string key = cells[c].Cell;
            context.Number($"{key}-slope", slopes.Average(), "F3");
            context.Number($"{key}-slope-min", slopes.Min(), "F3");
            context.Number($"{key}-slope-max", slopes.Max(), "F3");
            context.Number($"{key}-first-step", PaperRuns.Median(ratios), "G2");
            context.Number($"{key}-steps-per-decade", -1 / slopes.Average(), "F0");
            context.Text($"{key}-until-1e-3", until);
        }
        context.Table("flow-summary", $"Gradient flow per cell over {seeds.Length} seeds (weights and inputs): the average change of log10 ||dL/dh_t|| per step going back (mean, smallest and largest over seeds), the median over seeds of ||dL/dh_0|| / ||dL/dh_T-1||, and per seed the distance at which ||dL/dh_t|| first falls below 1e-3 of its value at the loss.",
            [new("cell"), new("log10 change per step", "F3"), new("min", "F3"), new("max", "F3"), new("first step / loss", "G2"), new("steps until 1e-3, per seed")],
            rows);
    }

    private static void RadiusSweep(PaperContext context, ulong[] seeds, int steps, int hidden, int batch)
    {
        context.Log($"spectral-radius sweep over {steps} steps");
        var perSeed = seeds.Select(s => GradientFlowStudy.SpectralRadiusSweep(Radii, steps, hidden, batch, s, RadiusInputScale)).ToArray();
        context.Number("radius-steps", steps, "F0");
        context.Number("radius-input-std", RadiusInputScale, "0.0##");
        context.Figure("flow-radius", $"tanh RNN with W_hh = rho Q (Q random orthogonal), zero biases, inputs N(0, {RadiusInputScale}^2): ||dL/dh_t|| over {steps} steps for each spectral radius rho (seed {seeds[0]}).",
            GradientFlowStudy.Figure(perSeed[0], "tanh RNN, W_hh = rho x orthogonal"));
        var log10Rho = Radii.Select(Math.Log10).ToArray();
        var slopes = Radii.Select((_, k) => perSeed.Select(p => p[k].Result.Log10SlopePerStep).ToArray()).ToArray();
        var mean = slopes.Select(s => s.Average()).ToArray();
        context.Figure("slope-vs-radius", $"Measured average change of log10 ||dL/dh_t|| per step back (mean over {seeds.Length} seeds) against log10 rho; the line of slope 1 is the linear theory (tanh' = 1, gradient proportional to rho^(T-t)).",
            new LineFigure("Per-step slope against log10 rho", "log10 rho", "measured log10 change per step", LogY: false,
            [
                // Measured last, with markers: it is drawn over the theory line it nearly coincides with.
                new Series("linear theory: log10 rho", [log10Rho[0], log10Rho[^1]], [log10Rho[0], log10Rho[^1]]),
                new Series("measured", log10Rho, mean) { Markers = true },
            ]));
        context.Table("radius-sweep", $"Spectral-radius sweep over {seeds.Length} seeds: the measured average change of log10 ||dL/dh_t|| per step back (mean, smallest, largest) against the linear prediction log10 rho.",
            [new("rho", "0.00"), new("log10 rho", "F4"), new("measured slope", "F4"), new("min", "F4"), new("max", "F4"), new("measured - log10 rho", "F4")],
            Radii.Select((rho, k) => (IReadOnlyList<object?>)[rho, log10Rho[k], mean[k], slopes[k].Min(), slopes[k].Max(), mean[k] - log10Rho[k]]));
        double worstBelow = Radii.Select((rho, k) => rho < 1 ? slopes[k].Max(s => Math.Abs(s - log10Rho[k])) : 0).Max();
        context.Number("radius-deviation-below-1", worstBelow, "G2");
        foreach (var (rho, name) in new[] { (1.0, "1"), (1.1, "1-1"), (2.0, "2") })
        {
            int k = Radii.ToList().IndexOf(rho);
            context.Number($"rho-{name}-slope", mean[k], "F4");
            context.Number($"rho-{name}-log10", log10Rho[k], "F4");
            context.Number($"rho-{name}", rho, "0.0#");
        }
    }

    private static void ForgetGate(PaperContext context, ulong[] seeds, int steps, int hidden, int batch)
    {
        context.Log($"LSTM cell state with forget-gate bias {string.Join(", ", ForgetBiases)}");
        var rows = new List<IReadOnlyList<object?>>();
        var cellCurves = new List<Series>();
        var gateCurves = new List<Series>();
        var stepsBack = Enumerable.Range(0, steps).Select(k => (double)k).ToArray();
        foreach (double bias in ForgetBiases)
        {
            var measured = new List<double>();
            var hiddenSlopes = new List<double>();
            var ratios = new List<double>();
            var meanForget = new List<double>();
            var slowestUnit = new List<double>();
            var saturated = new List<double>();
            foreach (ulong seed in seeds)
            {
                // The conventions of GradientFlowStudy.Compare: inputs from seed, weights from seed + 1, loss direction from seed + 2.
                var inputs = Tensor.RandomNormal<double>(new Rng(seed), [steps, batch, InputSize]);
                var cell = CellCatalog.Cell<double>("lstm", InputSize, hidden, new Rng(seed + 1), bias);
                var flow = GradientFlow.Measure(cell, inputs, new Rng(seed + 2));
                var forget = GateStatistics.Measure(cell, inputs).Single(g => g.Gate == "forget");
                var cNorms = flow.Norms[flow.StateNames.ToList().IndexOf("c")];
                measured.Add(PaperRuns.Log10SlopePerStepBack(cNorms));
                hiddenSlopes.Add(flow.Log10SlopePerStep);
                ratios.Add(cNorms[0] / cNorms[^1]);
                meanForget.Add(forget.Mean.Average());
                saturated.Add(forget.Saturated.Average());
                slowestUnit.Add(ForgetLog10PerUnit(cell, inputs).Max());
                if (seed != seeds[0]) continue;
                cellCurves.Add(new Series($"forget bias {bias:0}", stepsBack, cNorms.Reverse().ToArray()));
                gateCurves.Add(new Series($"forget bias {bias:0}", Enumerable.Range(0, steps).Select(t => (double)t).ToArray(), forget.Mean));
            }
            double f = meanForget.Average(), predicted = Math.Log10(f), slowest = slowestUnit.Average(), m = measured.Average();
            rows.Add([bias, f, saturated.Average(), predicted, slowest, m, measured.Min(), measured.Max(), hiddenSlopes.Average()]);
            string key = $"bias-{bias:0}";
            context.Number($"{key}-mean-forget", f, "F3");
            context.Number($"{key}-saturated", saturated.Average() * 100, "F0");
            context.Number($"{key}-predicted", predicted, "F4");
            context.Number($"{key}-slowest-unit", slowest, "F4");
            context.Number($"{key}-measured", m, "F4");
            context.Number($"{key}-measured-min", measured.Min(), "F4");
            context.Number($"{key}-measured-max", measured.Max(), "F4");
            context.Number($"{key}-c-ratio", PaperRuns.Median(ratios), "G2");
            context.Number($"{key}-h-slope", hiddenSlopes.Average(), "F4");
            if (m < 0) context.Number($"{key}-steps-per-decade", -1 / m, "F0");
            else context.Text($"{key}-steps-per-decade", "no decay");
        }
        context.Figure("cell-state", $"||dL/dc_t|| of an LSTM (H = {hidden}) against the distance from a loss on the last of {steps} steps, for initial forget-gate biases {string.Join(", ", ForgetBiases)} (seed {seeds[0]}; same weights and inputs otherwise).",
            new LineFigure("LSTM cell-state gradient by forget-gate bias", "steps back from the loss (T - 1 - t)", "||dL/dc_t||", LogY: true, cellCurves));
        context.Figure("forget-gate", $"Mean forget-gate activation (over batch and units) at every step of the same unrolls (seed {seeds[0]}), from GateStatistics.",
            new LineFigure("Mean forget gate per step", "step t", "mean forget gate", LogY: false, gateCurves));
        context.Table("forget-bias", $"LSTM cell state by initial forget-gate bias, means over {seeds.Length} seeds: the mean forget gate f over steps, batch and units (GateStatistics), the fraction of saturated forget gates (below 0.05 or above 0.95), the carousel prediction log10 f for the per-step change of ||dL/dc_t||, the same for the slowest unit (the largest per-unit mean of log10 f), the measured average change of log10 ||dL/dc_t|| per step back (mean, smallest and largest over seeds), and that of ||dL/dh_t|| (mean).",
            [new("forget bias", "0"), new("mean forget gate", "F3"), new("saturated", "P0"), new("log10 of mean f", "F4"), new("slowest unit", "F4"), new("measured", "F4"), new("min", "F4"), new("max", "F4"), new("h: measured", "F4")],
            rows);
    }

    /// <summary>Per hidden unit, the mean over steps and batch of log10 of the forget gate, listened to through <see cref="GateMonitor"/>.</summary>
    private static double[] ForgetLog10PerUnit(RecurrentCell<double> cell, Tensor<double> inputs)
    {
        int steps = inputs.Shape[0], batch = inputs.Shape[1], hidden = cell.HiddenSize;
        var sums = new double[hidden];
        using var _ = Autograd.NoGrad();
        using var __ = GateMonitor.Listen((gate, activation, _) =>
        {
            if (gate != "forget") return;
            var values = ((Tensor<double>)activation).AsSpan();
            for (int k = 0; k < values.Length; k++) sums[k % hidden] += Math.Log10(values[k]);
        });
        var state = cell.InitialState(batch);
        for (int t = 0; t < steps; t++) state = cell.Next(inputs.Select(0, t), state);
        return sums.Select(s => s / (steps * batch)).ToArray();
    }

    private static void Clipping(PaperContext context, ulong[] seeds)
    {
        var basis = new TrainingOptions
        {
            Cell = "irnn", Task = "adding", SequenceLength = context.Pick(50, 10), Hidden = context.Pick(32, 8), Batch = context.Pick(32, 8),
            Steps = context.Pick(400, 12), Optimizer = "sgd", LearningRate = 0.01, EvalEvery = context.Pick(20, 4), EvalBatch = context.Pick(256, 32),
        };
        const double clip = 1.0;
        context.Log($"clipping: {basis.Cell}, {basis.Optimizer} lr {basis.LearningRate}, {basis.Task} T = {basis.SequenceLength}, {basis.Steps} steps, with and without clip {clip}, seeds {string.Join(", ", seeds)}");
        var configs = seeds.SelectMany(s => TrainingStudy.Clipping(basis with { Seed = s }, clip).Select(c => ($"{c.Label}, seed {s}", c.Options))).ToArray();
        var runs = PaperRuns.Train(context, configs);
        var first = runs.Take(2).Select((r, k) => new LabelledRun(k == 0 ? "no clipping" : $"clip norm {clip:0.0}", r.Result)).ToArray();
        context.Figure("clipping-grad-norm", $"Global gradient norm before clipping at every step (seed {seeds[0]}): IRNN (H = {basis.Hidden}) trained with plain SGD (learning rate {basis.LearningRate}) on the adding problem, T = {basis.SequenceLength}.",
            TrainingStudy.GradNormFigure(first, "Gradient norm before clipping"));
        context.Figure("clipping-loss", "Training loss (MSE of the batch) at every step of the same two runs.",
            TrainingStudy.TrainLossFigure(first, "Training loss with and without clipping"));
        context.Figure("clipping-eval", $"Held-out MSE (a fixed batch of {basis.EvalBatch} sequences) during the same two runs, with the chance baseline (always predict 1).",
            TrainingStudy.EvalLossFigure(first, "Held-out loss with and without clipping"));
        double baseline = runs[0].Result.BaselineLoss;
        context.Table("clipping", $"Training with and without global-norm clipping at {clip:0.0} (Pascanu et al. 2013), seeds {string.Join(", ", seeds)}: steps completed (a run stops at the first non-finite loss or gradient), the largest and median gradient norm before clipping, the mean training loss of the last 10 steps, the last held-out loss, and the chance baseline.",
            [new("run"), new("steps completed", "0"), new("max gradient norm", "G3"), new("median gradient norm", "G3"), new("training loss, last 10 steps", "G3"), new("held-out loss", "G3"), new("chance", "G3")],
            runs.Select(r => (IReadOnlyList<object?>)[r.Label, r.Result.Steps.Count, MaxNorm(r), PaperRuns.Median(r.Result.Steps.Select(s => s.GradNorm)), LastLoss(r), EvalLoss(r), baseline]));
        context.Text("clip-seeds", string.Join(", ", seeds));
        context.Number("clip-threshold", clip, "0.0");
        context.Number("clip-steps", basis.Steps, "F0");
        context.Number("clip-seq-len", basis.SequenceLength, "F0");
        context.Number("clip-hidden", basis.Hidden, "F0");
        context.Number("clip-lr", basis.LearningRate, "0.###");
        context.Number("chance-mse", baseline, "F3");
        foreach (var (key, group) in new[] { ("unclipped", runs.Where((_, k) => k % 2 == 0).ToArray()), ("clipped", runs.Where((_, k) => k % 2 == 1).ToArray()) })
        {
            context.Number($"{key}-max-norm-min", group.Min(MaxNorm), "G3");
            context.Number($"{key}-max-norm-max", group.Max(MaxNorm), "G3");
            context.Number($"{key}-median-norm-max", group.Max(r => PaperRuns.Median(r.Result.Steps.Select(s => s.GradNorm))), "G3");
            // Min and Max over finite values only: a run stopped before its first evaluation has none.
            context.Number($"{key}-eval-loss-min", group.Select(EvalLoss).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min(), "G3");
            context.Number($"{key}-eval-loss-max", group.Select(EvalLoss).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max(), "G3");
            var stopped = group.Where(r => r.Result.Steps.Count < basis.Steps).ToArray();
            context.Number($"{key}-stopped", stopped.Length, "F0");
            context.Text($"{key}-stopped-at", stopped.Length == 0 ? "none" : string.Join(", ", stopped.Select(r => (r.Result.Steps.Count + 1).ToString(Invariant))));
            context.Number($"{key}-clip-active", group.Average(r => r.Result.Steps.Count(s => s.GradNorm > clip) / (double)Math.Max(1, r.Result.Steps.Count)) * 100, "F0");
        }
    }

    private static double MaxNorm(LabelledRun r) => r.Result.Steps.Count == 0 ? double.NaN : r.Result.Steps.Max(s => s.GradNorm);

    private static double LastLoss(LabelledRun r) => r.Result.Steps.Count == 0 ? double.NaN : r.Result.Steps.TakeLast(10).Average(s => s.Loss);

    private static double EvalLoss(LabelledRun r) => r.Result.Evaluations.Count == 0 ? double.NaN : r.Result.Final.Loss;
}
