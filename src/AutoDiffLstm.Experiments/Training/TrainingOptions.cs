using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Experiments.Training;

/// <summary>Everything that defines a training run; two runs with equal options produce bit-identical losses.</summary>
public sealed record TrainingOptions
{
    /// <summary>Cell name (see <see cref="CellCatalog.Names"/>).</summary>
    public string Cell { get; init; } = "lstm";
    /// <summary>Task name (see <see cref="TaskRegistry.Names"/>).</summary>
    public string Task { get; init; } = "adding";
    /// <summary>The task's length parameter T.</summary>
    public int SequenceLength { get; init; } = 50;
    /// <summary>Hidden size H.</summary>
    public int Hidden { get; init; } = 64;
    /// <summary>Stacked recurrent layers.</summary>
    public int Layers { get; init; } = 1;
    /// <summary>Skip connections between stacked layers.</summary>
    public bool Residual { get; init; }
    /// <summary>Initial forget-gate bias for LSTM cells (null: PyTorch's default draw).</summary>
    public double? ForgetBias { get; init; }
    /// <summary>Sequences per batch.</summary>
    public int Batch { get; init; } = 32;
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 500;
    /// <summary>"adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop" or "hf" (Hessian-free, <see cref="AutoDiffLstm.Training.HessianFree{T}"/>).</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Weight decay (L2 for SGD/Adam/RMSProp, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }
    /// <summary>"constant", "cosine" or "step" (halve every quarter of the run).</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>Linear warm-up steps before the schedule.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Clip the global gradient norm to this value (Pascanu et al. 2013); null: no clipping.</summary>
    public double? ClipNorm { get; init; }
    /// <summary>Clamp each gradient element to [-v, v]; null: no clipping.</summary>
    public double? ClipValue { get; init; }
    /// <summary>Seed of the initial weights and of every batch.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Evaluate on a fixed held-out batch every this many steps, and always at the end (0: only at the end).</summary>
    public int EvalEvery { get; init; } = 50;
    /// <summary>Size of the fixed evaluation batch.</summary>
    public int EvalBatch { get; init; } = 256;
    /// <summary>Train in double instead of float.</summary>
    public bool Double { get; init; }
    /// <summary>Gradient checkpointing: 0 off, k &gt; 0 keep the state every k steps, -1 every ceil(sqrt(T)) steps (O(sqrt T) memory, same gradients).</summary>
    public int GradientCheckpoint { get; init; }

    /// <summary>Hessian-free: the most CG iterations (Gauss-Newton products) per step.</summary>
    public int HfCgIterations { get; init; } = 50;
    /// <summary>Hessian-free: the initial Levenberg-Marquardt damping λ₀.</summary>
    public double HfDamping { get; init; } = 1.0;
    /// <summary>Hessian-free: the structural damping weight μ (Martens and Sutskever 2011); 0 off.</summary>
    public double HfStructuralDamping { get; init; }
    /// <summary>Hessian-free: sequences of the gradient batch used for the curvature products (0: a quarter of --batch, at least 1).</summary>
    public int HfCurvatureBatch { get; init; }
    /// <summary>Measure the top Hessian and Gauss-Newton eigenvalues every this many steps (0: never).</summary>
    public int CurvatureEvery { get; init; }
    /// <summary>How many top eigenvalues each curvature measurement reports.</summary>
    public int CurvatureTop { get; init; } = 3;

    /// <summary>The curvature batch HF uses: <see cref="HfCurvatureBatch"/>, or a quarter of <see cref="Batch"/>.</summary>
    public int CurvatureBatchSize() => HfCurvatureBatch > 0 ? HfCurvatureBatch : Math.Max(1, Batch / 4);

    /// <summary>The largest hidden size: 4H x H gate weights stay below 2^31 elements, the most a tensor holds.</summary>
    public const int MaxHidden = 16384;

    /// <summary>Known optimizer names.</summary>
    public static IReadOnlyList<string> Optimizers { get; } = ["adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop", "hf"];

    /// <summary>Known schedule names.</summary>
    public static IReadOnlyList<string> Schedules { get; } = ["constant", "cosine", "step"];

    /// <summary>Rejects every invalid setting before any work, with a message naming the option and the valid values.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (!CellCatalog.Contains(Cell)) errors.Add($"unknown cell '{Cell}'; valid cells: {string.Join(", ", CellCatalog.Names)}");
        if (!TaskRegistry.Contains(Task)) errors.Add($"unknown task '{Task}'; valid tasks: {string.Join(", ", TaskRegistry.Names)}");
        if (!Optimizers.Contains(Optimizer)) errors.Add($"unknown optimizer '{Optimizer}'; valid optimizers: {string.Join(", ", Optimizers)}");
        if (!Schedules.Contains(Schedule)) errors.Add($"unknown schedule '{Schedule}'; valid schedules: {string.Join(", ", Schedules)}");
        void Positive(string name, long v) { if (v <= 0) errors.Add($"{name} must be positive, got {v}"); }
        Positive("--seq-len", SequenceLength); Positive("--hidden", Hidden); Positive("--layers", Layers); Positive("--batch", Batch);
        Positive("--steps", Steps); Positive("--eval-batch", EvalBatch);
        if (EvalEvery < 0) errors.Add($"--eval-every must be >= 0 (0: only at the end), got {EvalEvery}");
        if (Hidden > MaxHidden) errors.Add($"--hidden must be at most {MaxHidden} (a cell's gate weights [4H, H] must fit 2^31 elements), got {Hidden}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) errors.Add($"--lr must be a positive finite number, got {LearningRate}");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) errors.Add($"--weight-decay must be >= 0, got {WeightDecay}");
        if (GradientCheckpoint < -1) errors.Add($"--grad-checkpoint must be -1 (every sqrt(T) steps), 0 (off) or a positive step count, got {GradientCheckpoint}");
        if (WarmupSteps < 0) errors.Add($"--warmup must be >= 0, got {WarmupSteps}");
        if (ClipNorm is double c && !(c > 0)) errors.Add($"--clip must be positive, got {c}");
        if (ClipValue is double cv && !(cv > 0)) errors.Add($"--clip-value must be positive, got {cv}");
        if (ForgetBias is double fb && !double.IsFinite(fb)) errors.Add($"--forget-bias must be finite, got {fb}");
        if (ForgetBias is not null && CellCatalog.Contains(Cell) && !CellCatalog.AcceptsForgetBias(Cell))
            errors.Add($"--forget-bias applies to LSTM cells with their own forget gate only, not '{Cell}'");
        if (Optimizer == "hf")
        {
            if (HfCgIterations < 1) errors.Add($"--hf-cg-iters must be at least 1, got {HfCgIterations}");
            if (!(HfDamping > 0) || !double.IsFinite(HfDamping)) errors.Add($"--hf-damping must be a positive finite number, got {HfDamping}");
            if (!(HfStructuralDamping >= 0) || !double.IsFinite(HfStructuralDamping)) errors.Add($"--hf-structural-damping must be >= 0, got {HfStructuralDamping}");
            if (HfCurvatureBatch < 0 || HfCurvatureBatch > Batch) errors.Add($"--hf-curvature-batch must be between 0 (a quarter of --batch) and --batch {Batch} (it is a subset of the gradient batch), got {HfCurvatureBatch}");
            if (ClipNorm is not null || ClipValue is not null) errors.Add("--clip and --clip-value apply to first-order optimizers; --optimizer hf controls its step by damping and a line search instead");
            if (Schedule != "constant" || WarmupSteps > 0 || WeightDecay > 0) errors.Add("--schedule, --warmup and --weight-decay apply to first-order optimizers, not --optimizer hf (it takes no learning rate)");
        }
        else if (HfCgIterations != 50 || HfDamping != 1.0 || HfStructuralDamping != 0 || HfCurvatureBatch != 0)
            errors.Add($"the --hf-* options apply to --optimizer hf only, not '{Optimizer}'");
        if (CurvatureEvery < 0) errors.Add($"--curvature-every must be >= 0 (0: never), got {CurvatureEvery}");
        if (CurvatureTop < 1) errors.Add($"--curvature-top must be at least 1, got {CurvatureTop}");
        if (errors.Count == 0 && TaskRegistry.Contains(Task))
        {
            try { TaskRegistry.Create<float>(Task, SequenceLength); }
            catch (ArgumentException e) { errors.Add(e.Message); }
        }
        if (errors.Count > 0) throw new ArgumentException("Invalid training options: " + string.Join("; ", errors) + ".");
    }
}
