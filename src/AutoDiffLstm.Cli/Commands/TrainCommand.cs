using System.CommandLine;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>train</c>: one training run with checkpoints, progress, and results under --out.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
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
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate on the held-out batch every N steps; 0: only at the end (the run always ends with one)", DefaultValueFactory = _ => 50 };
        var useDouble = new Option<bool>("--double") { Description = "Train in double precision (default float)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also write the checkpoint every N steps; 0: only at the end (the run always ends with one, and Ctrl-C writes one too)" };
        var gradCheckpoint = new Option<int>("--grad-checkpoint") { Description = "Gradient checkpointing: keep the state every k steps and recompute the rest in backward (-1: k = sqrt(T)); same gradients, O(sqrt T) memory" };
        var hfCgIters = new Option<int>("--hf-cg-iters") { Description = "Hessian-free (--optimizer hf): the most conjugate-gradient iterations (Gauss-Newton products) per step", DefaultValueFactory = _ => 50 };
        var hfDamping = new Option<double>("--hf-damping") { Description = "Hessian-free: the initial Levenberg-Marquardt damping lambda (then adapted from the reduction ratio)", DefaultValueFactory = _ => 1.0 };
        var hfStructural = new Option<double>("--hf-structural-damping") { Description = "Hessian-free: the weight mu of the structural damping on the hidden states' change (Martens and Sutskever 2011); 0 off" };
        var hfCurvatureBatch = new Option<int>("--hf-curvature-batch") { Description = "Hessian-free: sequences of each gradient batch used for the curvature products (0: a quarter of --batch)" };
        var curvatureEvery = new Option<int>("--curvature-every") { Description = "Measure the top eigenvalues of the Hessian and the Gauss-Newton matrix (Lanczos) on a fixed batch every N steps and after step 1; 0: never" };
        var curvatureTop = new Option<int>("--curvature-top") { Description = "How many top eigenvalues each curvature measurement reports", DefaultValueFactory = _ => 3 };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint file (its stored options are used; --steps may extend the run); results and the new checkpoint go next to it unless --out is given" };
        var command = new Command("train", "Train a recurrent model on a generated task, with progress, checkpoints (safetensors) and results.")
        {
            cell, task, seqLen, hidden, batch, steps, lr, clip, clipValue, seed, outDir, json, optimizer, schedule, warmup,
            weightDecay, layers, residual, forgetBias, evalEvery, useDouble, checkpointEvery, gradCheckpoint,
            hfCgIters, hfDamping, hfStructural, hfCurvatureBatch, curvatureEvery, curvatureTop, resume,
        };
        command.SetAction(r =>
        {
            string? resumePath = r.GetValue(resume) is string given ? Checkpoint.Locate(given) : null;
            // A resumed run writes next to the checkpoint it continues, unless --out says otherwise.
            string dir = resumePath is not null && r.GetResult(outDir) is null or { Implicit: true }
                ? Path.GetDirectoryName(Path.GetFullPath(resumePath)) ?? "."
                : r.GetValue(outDir)!;
            var options = new TrainingOptions
            {
                Cell = r.GetValue(cell)!, Task = r.GetValue(task)!, SequenceLength = r.GetValue(seqLen), Hidden = r.GetValue(hidden),
                Batch = r.GetValue(batch), Steps = r.GetValue(steps), LearningRate = r.GetValue(lr), ClipNorm = r.GetValue(clip),
                ClipValue = r.GetValue(clipValue), Seed = r.GetValue(seed), Optimizer = r.GetValue(optimizer)!, Schedule = r.GetValue(schedule)!,
                WarmupSteps = r.GetValue(warmup), WeightDecay = r.GetValue(weightDecay), Layers = r.GetValue(layers), Residual = r.GetValue(residual),
                ForgetBias = r.GetValue(forgetBias), EvalEvery = r.GetValue(evalEvery), Double = r.GetValue(useDouble),
                GradientCheckpoint = r.GetValue(gradCheckpoint), HfCgIterations = r.GetValue(hfCgIters), HfDamping = r.GetValue(hfDamping),
                HfStructuralDamping = r.GetValue(hfStructural), HfCurvatureBatch = r.GetValue(hfCurvatureBatch),
                CurvatureEvery = r.GetValue(curvatureEvery), CurvatureTop = r.GetValue(curvatureTop),
            };
            int? extend = r.GetResult(steps) is { Implicit: false } ? r.GetValue(steps) : null;
            if (r.GetValue(checkpointEvery) < 0) throw new ArgumentException($"--checkpoint-every must be >= 0 (0: only at the end), got {r.GetValue(checkpointEvery)}.");
            if (options.Residual && options.Layers < 2 && resumePath is null)
                throw new ArgumentException($"--residual connects stacked layers; it needs --layers 2 or more, got {options.Layers}.");
            if (resumePath is null) options.Validate();
            else
            {
                // The checkpoint's options are used; one given explicitly that disagrees with them would otherwise be
                // silently ignored, so the resume is refused instead (only --steps may change, to extend the run).
                var (stored, completed, _) = Checkpoint.ReadHeader(resumePath);
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
                Same(gradCheckpoint, stored.GradientCheckpoint); Same(hfCgIters, stored.HfCgIterations); Same(hfDamping, stored.HfDamping);
                Same(hfStructural, stored.HfStructuralDamping); Same(hfCurvatureBatch, stored.HfCurvatureBatch);
                Same(curvatureEvery, stored.CurvatureEvery); Same(curvatureTop, stored.CurvatureTop);
                if (mismatches.Count > 0)
                    throw new ArgumentException($"--resume {resumePath}: the checkpoint does not match the given options: {string.Join("; ", mismatches)}. Omit them to use the checkpoint's.");
                if (extend is int s && s < completed)
                    throw new ArgumentException($"--steps {s} is fewer than the {completed} steps the checkpoint '{resumePath}' has already completed.");
                options = stored with { Steps = extend ?? stored.Steps };
            }
            var memory = TrainRun.CheckMemory(options);
            OutputDirectory.Prepare(dir);
            var run = new TrainRun(stdout, stderr, dir, r.GetValue(checkpointEvery), r.GetValue(json), memory.TotalBytes);
            return options.Double ? run.Run<double>(options, resumePath, extend) : run.Run<float>(options, resumePath, extend);
        });
        return command;
    }
}
