using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>A labelled training run of a comparison.</summary>
public sealed record LabelledRun(string Label, TrainingResult Result);

/// <summary>Training comparisons: remedies for vanishing gradients side by side, and clipping on and off.</summary>
public static class TrainingStudy
{
    /// <summary>
    /// The remedies for vanishing gradients on one task: tanh RNN, ReLU RNN with identity initialisation (IRNN, Le et
    /// al. 2015), a stacked tanh RNN with residual connections, LSTM with and without forget-gate bias 1, and GRU.
    /// </summary>
    public static IReadOnlyList<(string Label, TrainingOptions Options)> Remedies(TrainingOptions basis) =>
    [
        ("rnn (tanh)", basis with { Cell = "rnn", ForgetBias = null }),
        ("irnn", basis with { Cell = "irnn", ForgetBias = null }),
        ("rnn, 2 layers residual", basis with { Cell = "rnn", Layers = 2, Residual = true, ForgetBias = null }),
        (CellLabels.Of("lstm", null), basis with { Cell = "lstm", ForgetBias = null }),
        ("lstm, forget bias 1", basis with { Cell = "lstm", ForgetBias = 1.0 }),
        ("gru", basis with { Cell = "gru", ForgetBias = null }),
    ];

    /// <summary>The same run with and without global-norm clipping at <paramref name="clip"/> (Pascanu et al. 2013).</summary>
    public static IReadOnlyList<(string Label, TrainingOptions Options)> Clipping(TrainingOptions basis, double clip) =>
    [
        ("no clipping", basis with { ClipNorm = null }),
        ($"clip norm {clip:0.##}", basis with { ClipNorm = clip }),
    ];

    /// <summary>Runs each configuration (float or double as its options say); a diverged run ends early and keeps what it recorded.</summary>
    public static IReadOnlyList<LabelledRun> Run(IEnumerable<(string Label, TrainingOptions Options)> runs, Action<string, StepRecord>? onStep = null) =>
        runs.Select(r => new LabelledRun(r.Label, r.Options.Double ? RunOne<double>(r.Label, r.Options, onStep) : RunOne<float>(r.Label, r.Options, onStep))).ToArray();

    private static TrainingResult RunOne<T>(string label, TrainingOptions options, Action<string, StepRecord>? onStep)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var trainer = new Trainer<T>(options);
        if (onStep is not null) trainer.OnStep = s => onStep(label, s);
        try { return trainer.Run(); }
        catch (TrainingDivergedException) { return trainer.Result(); }
    }

    /// <summary>Held-out loss over training steps, one curve per run, with the task's baseline as a flat line.</summary>
    public static LineFigure EvalLossFigure(IReadOnlyList<LabelledRun> runs, string title, bool logY = true)
    {
        var series = runs.Select(r => new Series(r.Label,
            r.Result.Evaluations.Select(e => (double)e.Step).ToArray(), r.Result.Evaluations.Select(e => e.Loss).ToArray())).ToList();
        if (runs.Count > 0)
        {
            int last = runs.Max(r => r.Result.Options.Steps);
            series.Add(new Series("chance baseline", [0, last], [runs[0].Result.BaselineLoss, runs[0].Result.BaselineLoss]));
        }
        return new LineFigure(title, "training step", "held-out loss", logY, series);
    }

    /// <summary>The global gradient norm before clipping at every step, one curve per run (log scale).</summary>
    public static LineFigure GradNormFigure(IReadOnlyList<LabelledRun> runs, string title) => new(
        title, "training step", "gradient norm before clipping", LogY: true,
        runs.Select(r => new Series(r.Label, r.Result.Steps.Select(s => (double)s.Step).ToArray(), r.Result.Steps.Select(s => s.GradNorm).ToArray())).ToArray());

    /// <summary>Training loss at every step, one curve per run.</summary>
    public static LineFigure TrainLossFigure(IReadOnlyList<LabelledRun> runs, string title) => new(
        title, "training step", "training loss", LogY: true,
        runs.Select(r => new Series(r.Label, r.Result.Steps.Select(s => (double)s.Step).ToArray(), r.Result.Steps.Select(s => s.Loss).ToArray())).ToArray());

    /// <summary>The curvature measurements of a run: the largest eigenvalue of the Hessian and of the Gauss-Newton matrix, and the Hessian's smallest, against the step.</summary>
    public static LineFigure CurvatureFigure(TrainingResult run)
    {
        var steps = run.Curvature.Select(c => (double)c.Step).ToArray();
        return new LineFigure($"Curvature: {run.Options.Cell} on {run.Options.Task}, {run.Options.Optimizer}", "training step", "eigenvalue", LogY: false,
            [new Series("Hessian, largest", steps, run.Curvature.Select(c => c.HessianTop[0]).ToArray()) { Markers = true },
             new Series("Gauss-Newton, largest", steps, run.Curvature.Select(c => c.GaussNewtonTop[0]).ToArray()) { Markers = true },
             new Series("Hessian, smallest", steps, run.Curvature.Select(c => c.HessianSmallest).ToArray()) { Markers = true }]);
    }
}
