using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>Sizes of the demo; the defaults take about a minute on two cores.</summary>
public sealed record DemoOptions
{
    /// <summary>Horizon of the gradient-flow comparison.</summary>
    public int FlowSteps { get; init; } = 256;
    /// <summary>Hidden size of the gradient-flow comparison.</summary>
    public int FlowHidden { get; init; } = 32;
    /// <summary>Sequence length of the adding problem.</summary>
    public int AddingLength { get; init; } = 100;
    /// <summary>Training steps per model.</summary>
    public int TrainSteps { get; init; } = 1000;
    /// <summary>Hidden size of the trained models.</summary>
    public int TrainHidden { get; init; } = 16;
    /// <summary>Batch size of the trained models.</summary>
    public int Batch { get; init; } = 32;
    /// <summary>Seed of everything.</summary>
    public ulong Seed { get; init; } = 1;
}

/// <summary>One row of the demo's summary table (its JSON keys are those of <c>adl gradflow</c>'s curves).</summary>
public sealed record DemoFlowRow(string Cell, double GradNormAtLoss, double GradNormAtFirstStep, double Log10ChangePerStep,
    [property: System.Text.Json.Serialization.JsonPropertyName("steps_until_1e_3")] int? StepsUntil1e3);

/// <summary>One trained model of the demo (FinalEvalLoss is NaN if the run diverged before its first evaluation).</summary>
public sealed record DemoTrainRow(string Cell, double FinalEvalLoss, double BaselineLoss, double StepsPerSecond);

/// <summary>What the demo measured and where it wrote it.</summary>
public sealed record DemoSummary(DemoOptions Options, IReadOnlyList<DemoFlowRow> GradientFlow, IReadOnlyList<DemoTrainRow> Training, IReadOnlyList<string> Files);

/// <summary>
/// The main job: gradient flow of RNN vs LSTM vs GRU over a long horizon, then a brief training of an LSTM and an RNN
/// on the adding problem, with figures and a JSON summary.
/// </summary>
public static class Demo
{
    /// <summary>Runs the demo and writes its files under <paramref name="outDir"/>.</summary>
    public static DemoSummary Run(DemoOptions options, string outDir, Action<string>? log = null, Action<string, StepRecord>? onStep = null)
    {
        Directory.CreateDirectory(outDir);
        var files = new List<string>();

        log?.Invoke($"gradient flow over {options.FlowSteps} steps (H = {options.FlowHidden})");
        var flows = GradientFlowStudy.Compare(GradientFlowStudy.DefaultContenders, options.FlowSteps, options.FlowHidden, batch: 8, inputSize: 4, options.Seed);
        files.AddRange(GradientFlowStudy.Figure(flows, $"Gradient flow from a loss at the last of {options.FlowSteps} steps").Save(Path.Combine(outDir, "gradient-flow")));
        var lstmFlow = flows.Where(f => f.Result.StateNames.Contains("c")).ToArray();
        files.AddRange(GradientFlowStudy.Figure(lstmFlow, "The LSTM cell state: ||dL/dc_t||", "c").Save(Path.Combine(outDir, "gradient-flow-cell-state")));
        ResultFiles.WriteCsv(Path.Combine(outDir, "gradient-flow.csv"), ["cell", "steps_back", "grad_norm_h"],
            flows.SelectMany(f => f.Result.HiddenNorms.Reverse().Select((v, k) => (IReadOnlyList<object?>)[f.Label, k, v])));
        files.Add(Path.Combine(outDir, "gradient-flow.csv"));
        var flowRows = flows.Select(f => new DemoFlowRow(f.Label, f.Result.HiddenNorms[^1], f.Result.HiddenNorms[0], f.Result.Log10SlopePerStep, f.Result.StepsUntilBelow(1e-3))).ToArray();

        log?.Invoke($"training on the adding problem, T = {options.AddingLength}, {options.TrainSteps} steps each");
        var basis = new TrainingOptions
        {
            Task = "adding", SequenceLength = options.AddingLength, Hidden = options.TrainHidden, Batch = options.Batch,
            Steps = options.TrainSteps, LearningRate = 0.05, ClipNorm = 1.0, Seed = options.Seed, EvalEvery = Math.Max(1, options.TrainSteps / 10),
        };
        var runs = TrainingStudy.Run([("lstm, forget bias 1", basis with { Cell = "lstm", ForgetBias = 1.0 }), ("rnn (tanh)", basis with { Cell = "rnn" })], onStep);
        files.AddRange(TrainingStudy.EvalLossFigure(runs, $"Adding problem, T = {options.AddingLength}: held-out MSE").Save(Path.Combine(outDir, "adding-training")));
        var trainRows = runs.Select(r => new DemoTrainRow(r.Label, r.Result.LastEvaluation?.Loss ?? double.NaN, r.Result.BaselineLoss, r.Result.StepsPerSecond)).ToArray();

        string json = Path.Combine(outDir, "demo-summary.json");
        var summary = new DemoSummary(options, flowRows, trainRows, [.. files, json]);
        ResultFiles.WriteJson(json, summary);
        return summary;
    }
}
