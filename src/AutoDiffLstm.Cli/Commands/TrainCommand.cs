using System.CommandLine;
using System.Globalization;
using System.Numerics;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>train</c>: one training run with checkpoints, progress, and results under --out.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cell = CommonOptions.Cell("lstm");
        var task = CommonOptions.Task();
        var seqLen = CommonOptions.SeqLen(50);
        var hidden = CommonOptions.Hidden(64);
        var batch = CommonOptions.Batch(32);
        var steps = CommonOptions.Steps(500);
        var lr = CommonOptions.Lr(1e-2);
        var clip = CommonOptions.Clip();
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out();
        var json = CommonOptions.Json();
        var clipValue = new Option<double?>("--clip-value") { Description = "Clamp every gradient element to [-v, v]" };
        var optimizer = new Option<string>("--optimizer") { Description = "Optimizer: " + string.Join(", ", TrainingOptions.Optimizers), DefaultValueFactory = _ => "adam" };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: " + string.Join(", ", TrainingOptions.Schedules), DefaultValueFactory = _ => "constant" };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps" };
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay" };
        var layers = new Option<int>("--layers") { Description = "Stacked recurrent layers", DefaultValueFactory = _ => 1 };
        var residual = new Option<bool>("--residual") { Description = "Residual connections between stacked layers" };
        var forgetBias = new Option<double?>("--forget-bias") { Description = "Initial forget-gate bias (LSTM cells)" };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate on the held-out batch every N steps", DefaultValueFactory = _ => 50 };
        var useDouble = new Option<bool>("--double") { Description = "Train in double precision (default float)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also write the checkpoint every N steps (it is always written at the end)" };
        var gradCheckpoint = new Option<int>("--grad-checkpoint") { Description = "Gradient checkpointing: keep the state every k steps and recompute the rest in backward (-1: k = sqrt(T)); same gradients, O(sqrt T) memory" };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint (its stored options are used; --steps may extend the run)" };
        var command = new Command("train", "Train a recurrent model on a generated task, with progress, checkpoints (safetensors) and results.")
        {
            cell, task, seqLen, hidden, batch, steps, lr, clip, clipValue, seed, outDir, json, optimizer, schedule, warmup,
            weightDecay, layers, residual, forgetBias, evalEvery, useDouble, checkpointEvery, gradCheckpoint, resume,
        };
        command.SetAction(r =>
        {
            string dir = r.GetValue(outDir)!;
            string? resumePath = r.GetValue(resume);
            var options = new TrainingOptions
            {
                Cell = r.GetValue(cell)!, Task = r.GetValue(task)!, SequenceLength = r.GetValue(seqLen), Hidden = r.GetValue(hidden),
                Batch = r.GetValue(batch), Steps = r.GetValue(steps), LearningRate = r.GetValue(lr), ClipNorm = r.GetValue(clip),
                ClipValue = r.GetValue(clipValue), Seed = r.GetValue(seed), Optimizer = r.GetValue(optimizer)!, Schedule = r.GetValue(schedule)!,
                WarmupSteps = r.GetValue(warmup), WeightDecay = r.GetValue(weightDecay), Layers = r.GetValue(layers), Residual = r.GetValue(residual),
                ForgetBias = r.GetValue(forgetBias), EvalEvery = r.GetValue(evalEvery), Double = r.GetValue(useDouble),
                GradientCheckpoint = r.GetValue(gradCheckpoint),
            };
            if (resumePath is null) options.Validate();
            else
            {
                // The checkpoint's options are used; one given explicitly that disagrees with them would otherwise be
                // silently ignored, so the resume is refused instead (only --steps may change, to extend the run).
                var stored = Checkpoint.ReadHeader(resumePath).Options;
                var mismatches = new List<string>();
                void Same<TV>(Option<TV> o, TV storedValue)
                {
                    // Names are case-insensitive everywhere else, so "LSTM" matches a checkpoint of "lstm".
                    bool equal = r.GetValue(o) is string given && storedValue is string kept
                        ? string.Equals(given.Trim(), kept.Trim(), StringComparison.OrdinalIgnoreCase)
                        : EqualityComparer<TV>.Default.Equals(r.GetValue(o), storedValue);
                    if (r.GetResult(o) is { Implicit: false } && !equal)
                        mismatches.Add($"{o.Name} {r.GetValue(o)} (checkpoint: {storedValue})");
                }
                Same(cell, stored.Cell); Same(task, stored.Task); Same(seqLen, stored.SequenceLength); Same(hidden, stored.Hidden);
                Same(layers, stored.Layers); Same(batch, stored.Batch); Same(seed, stored.Seed); Same(optimizer, stored.Optimizer);
                Same(useDouble, stored.Double); Same(lr, stored.LearningRate); Same(clip, stored.ClipNorm); Same(clipValue, stored.ClipValue);
                Same(schedule, stored.Schedule); Same(warmup, stored.WarmupSteps); Same(weightDecay, stored.WeightDecay);
                Same(residual, stored.Residual); Same(forgetBias, stored.ForgetBias); Same(evalEvery, stored.EvalEvery);
                if (mismatches.Count > 0)
                    throw new ArgumentException($"--resume {resumePath}: the checkpoint does not match the given options: {string.Join("; ", mismatches)}. Omit them to use the checkpoint's.");
            }
            int? extend = r.GetResult(steps) is { Implicit: false } ? r.GetValue(steps) : null;
            bool asDouble = resumePath is null ? options.Double : Checkpoint.IsDouble(resumePath);
            return asDouble
                ? Run<double>(stdout, options, resumePath, extend, dir, r.GetValue(checkpointEvery), r.GetValue(json))
                : Run<float>(stdout, options, resumePath, extend, dir, r.GetValue(checkpointEvery), r.GetValue(json));
        });
        return command;
    }

    private static int Run<T>(TextWriter stdout, TrainingOptions options, string? resumePath, int? extend, string dir, int checkpointEvery, bool asJson)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (checkpointEvery < 0) throw new ArgumentException($"--checkpoint-every must be >= 0, got {checkpointEvery}.");
        var trainer = resumePath is null ? new Trainer<T>(options) : Trainer<T>.Resume(resumePath, extend);
        Directory.CreateDirectory(dir);
        string checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        var view = new ConsoleView(stdout);
        string label = $"{trainer.Options.Cell} on {trainer.Options.Task}";
        TrainingResult result;
        try
        {
            result = view.WithProgress(label, trainer.Options.Steps, onStep =>
            {
                trainer.OnStep = s =>
                {
                    if (!asJson) onStep(label, s);
                    if (checkpointEvery > 0 && s.Step % checkpointEvery == 0) trainer.SaveCheckpoint(checkpoint);
                };
                return trainer.Run();
            });
        }
        catch (TrainingDivergedException)
        {
            WriteResults(dir, trainer.Result());
            throw;
        }
        trainer.SaveCheckpoint(checkpoint);
        var files = WriteResults(dir, result).Append(checkpoint).Append(checkpoint + ".json").ToArray();
        if (asJson) { stdout.WriteLine(ResultFiles.ToJson(new { result = Summary(result), files })); return Cli.Ok; }
        var c = CultureInfo.InvariantCulture;
        view.Table($"{label}, T = {result.Options.SequenceLength}", ["step", "held-out loss", "accuracy"],
            result.Evaluations.Select(e => (IReadOnlyList<string>)[e.Step.ToString(c), e.Loss.ToString("G4", c), e.Accuracy?.ToString("P1", c) ?? "-"]));
        stdout.WriteLine(string.Create(c, $"Baseline: {result.BaselineLoss:G4} ({result.BaselineDescription}). {result.StepsPerSecond:F1} steps/s, {result.ParameterCount} parameters."));
        stdout.WriteLine("Wrote: " + string.Join(", ", files));
        return Cli.Ok;
    }

    private static object Summary(TrainingResult r) => new
    {
        // A run that diverged before its first evaluation has no final loss (null in the JSON).
        options = r.Options, final_loss = r.LastEvaluation?.Loss, final_accuracy = r.LastEvaluation?.Accuracy, baseline_loss = r.BaselineLoss,
        baseline = r.BaselineDescription, steps_per_second = r.StepsPerSecond, threads = Parallelism.MaxThreads, parameters = r.ParameterCount,
        evaluations = r.Evaluations, losses = r.Steps.Select(s => s.Loss).ToArray(), grad_norms = r.Steps.Select(s => s.GradNorm).ToArray(),
    };

    private static IEnumerable<string> WriteResults(string dir, TrainingResult result)
    {
        string json = Path.Combine(dir, "train-result.json"), csv = Path.Combine(dir, "train-steps.csv");
        ResultFiles.WriteJson(json, Summary(result));
        ResultFiles.WriteCsv(csv, ["step", "loss", "grad_norm", "learning_rate"], result.Steps.Select(s => (IReadOnlyList<object?>)[s.Step, s.Loss, s.GradNorm, s.LearningRate]));
        var runs = new[] { new LabelledRun(result.Options.Cell, result) };
        return [json, csv, .. TrainingStudy.EvalLossFigure(runs, $"{result.Options.Cell} on {result.Options.Task}").Save(Path.Combine(dir, "train-eval-loss")),
            .. TrainingStudy.GradNormFigure(runs, "Gradient norm before clipping").Save(Path.Combine(dir, "train-grad-norm"))];
    }
}
