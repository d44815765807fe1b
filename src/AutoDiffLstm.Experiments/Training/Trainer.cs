using System.Diagnostics;
using System.Numerics;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Tasks;
using AutoDiffLstm.Training;

namespace AutoDiffLstm.Experiments.Training;

/// <summary>
/// The training loop shared by the command line, the experiments and the notebooks: build the model and the task from
/// <see cref="TrainingOptions"/>, then per step draw a batch, backward, clip, update, and evaluate now and then.
/// Every batch is drawn from a generator seeded by (seed, step), so a run is reproducible bit for bit and a resumed run
/// continues exactly where the interrupted one would have gone.
/// </summary>
public sealed class Trainer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Optimizer<T> optimizer;
    private readonly ILearningRateSchedule schedule;
    private readonly EvaluationBatches<T> evalBatches;
    private readonly List<StepRecord> steps = [];
    private readonly List<EvalRecord> evaluations = [];
    private readonly List<HessianFreeRecord> hessianFree = [];
    private readonly List<CurvatureRecord> curvature = [];
    private readonly SequenceBatch<T>? curvatureBatch;

    /// <summary>Builds the model, task and optimizer (validating the options first).</summary>
    public Trainer(TrainingOptions options)
    {
        options.Validate();
        Options = options;
        Task = TaskRegistry.Create<T>(options.Task, options.SequenceLength);
        var rng = new Rng(options.Seed);
        var layer = CellCatalog.Layer<T>(options.Cell, Task.InputSize, options.Hidden, rng.Fork(), options.Layers, options.Residual, options.ForgetBias);
        Model = new SequenceModel<T>(layer, Task.OutputSize, rng.Fork()) { CheckpointEvery = options.GradientCheckpoint };
        optimizer = CreateOptimizer(options, Model.Parameters());
        schedule = CreateSchedule(options);
        // A fixed batch for the curvature measurements, so that they follow the parameters rather than the batches' noise.
        if (options.CurvatureEvery > 0) curvatureBatch = Task.NextBatch(new Rng(options.Seed ^ 0xC0_7E_A7_0000_0002UL), options.Batch);
        evalBatches = new EvaluationBatches<T>(Task.NextBatch(new Rng(options.Seed ^ 0x5EED_E7A1_0000_0001UL), options.EvalBatch), Task.LossPlacement, options.Batch);
    }

    /// <summary>The run's settings.</summary>
    public TrainingOptions Options { get; private set; }

    /// <summary>The task trained on.</summary>
    public ISequenceTask<T> Task { get; }

    /// <summary>The model being trained.</summary>
    public SequenceModel<T> Model { get; }

    /// <summary>Steps completed so far.</summary>
    public int CompletedSteps { get; private set; }

    /// <summary>
    /// Whether each step's forward and backward run under <see cref="Tape.ReuseBuffers"/> (default true): the step's
    /// intermediate tensors are recycled when backward ends and the next step reuses their storage, so steady-state
    /// steps allocate almost nothing. Results are bit-identical either way; turn it off only to keep a step's
    /// intermediates readable after the step.
    /// </summary>
    public bool ReuseBuffers { get; set; } = true;

    /// <summary>Called after every step (for progress bars and logs).</summary>
    public Action<StepRecord>? OnStep { get; set; }

    /// <summary>
    /// Stop with <see cref="TrainingDivergedException"/> when a step's loss exceeds this many times the first step's
    /// loss (null, the default: only a non-finite loss or gradient norm stops the run). The command line sets 1000:
    /// a loss three orders of magnitude above where it started has left every useful region, whichever optimizer
    /// got it there (Adam with a huge learning rate climbs to 1e9 without ever overflowing).
    /// </summary>
    public double? ExplodingLossFactor { get; set; }

    /// <summary>Called after every evaluation.</summary>
    public Action<EvalRecord>? OnEvaluation { get; set; }

    /// <summary>
    /// Runs until <see cref="TrainingOptions.Steps"/>; throws <see cref="TrainingDivergedException"/> on a non-finite
    /// loss (or one above <see cref="ExplodingLossFactor"/>). <paramref name="cancel"/> is looked at between steps only,
    /// so a cancelled run throws <see cref="OperationCanceledException"/> with every completed step intact and
    /// <see cref="CompletedSteps"/> ready for a checkpoint.
    /// </summary>
    public TrainingResult Run(CancellationToken cancel = default)
    {
        var parameters = optimizer.Parameters;
        while (CompletedSteps < Options.Steps)
        {
            cancel.ThrowIfCancellationRequested();
            int step = CompletedSteps + 1;
            var watch = Stopwatch.StartNew();
            var batch = Task.NextBatch(BatchRng(Options.Seed, step), Options.Batch);
            if (optimizer is HessianFree<T> hf)
            {
                HessianFreeStep(hf, step, batch, watch);
                continue;
            }
            optimizer.ZeroGrad();
            Tape.Current.Reset();
            double lossValue;
            // Forward values of this step are recycled by the reset that ends backward, and reused by the next step:
            // nothing of the graph is read after backward (the loss value is taken before it).
            using (ReuseBuffers ? Tape.ReuseBuffers() : default)
            {
                var loss = Model.Loss(Task, batch);
                lossValue = loss.ItemAsDouble();
                if (!double.IsFinite(lossValue))
                {
                    Tape.Current.Reset();
                    throw new TrainingDivergedException(step, lossValue, double.NaN);
                }
                loss.Backward();
            }
            double norm = Options.ClipNorm is double maxNorm
                ? GradientClipping.ClipByGlobalNorm(parameters, maxNorm)
                : GradientClipping.GlobalNorm(parameters);
            if (!double.IsFinite(norm)) throw new TrainingDivergedException(step, lossValue, norm);
            if (ExplodingLossFactor is double factor && steps.Count > 0 && steps[0].Loss > 0 && lossValue > factor * steps[0].Loss)
                throw new TrainingDivergedException(step, lossValue, steps[0].Loss, factor);
            if (Options.ClipValue is double clipValue) GradientClipping.ClipByValue(parameters, clipValue);
            schedule.ApplyTo(optimizer, step - 1);
            double rate = optimizer.LearningRate;
            optimizer.Step();
            CompletedSteps = step;
            EndStep(new StepRecord(step, lossValue, norm, rate, watch.Elapsed.TotalSeconds));
        }
        if (evaluations.Count == 0 || evaluations[^1].Step != CompletedSteps) Evaluate();
        return Result();
    }

    private void HessianFreeStep(HessianFree<T> hf, int step, SequenceBatch<T> batch, Stopwatch watch)
    {
        Tape.Current.Reset();
        var report = hf.Step(SecondOrder.HessianFreeBatch(Model, Task, batch, Options.CurvatureBatchSize()));
        if (!double.IsFinite(report.Loss) || !double.IsFinite(report.GradientNorm)) throw new TrainingDivergedException(step, report.Loss, report.GradientNorm);
        if (ExplodingLossFactor is double factor && steps.Count > 0 && steps[0].Loss > 0 && report.Loss > factor * steps[0].Loss)
            throw new TrainingDivergedException(step, report.Loss, steps[0].Loss, factor);
        hessianFree.Add(new HessianFreeRecord(step, report.Damping, report.CgIterations, report.ChosenIteration, report.ReductionRatio, report.StepSize));
        // The "learning rate" of an HF step is its line-search step size α (1: the CG step as it is).
        EndStep(new StepRecord(step, report.Loss, report.GradientNorm, report.StepSize, watch.Elapsed.TotalSeconds));
    }

    private void EndStep(StepRecord record)
    {
        CompletedSteps = record.Step;
        steps.Add(record);
        OnStep?.Invoke(record);
        if (curvatureBatch is not null && (record.Step % Options.CurvatureEvery == 0 || record.Step == 1))
            curvature.Add(SecondOrder.Measure(record.Step, Model, Task, curvatureBatch, Options.CurvatureTop));
        // EvalEvery 0: only at the end (the same rule as the command line's --checkpoint-every 0).
        if ((Options.EvalEvery > 0 && record.Step % Options.EvalEvery == 0) || record.Step == Options.Steps) Evaluate();
    }

    /// <summary>The result so far.</summary>
    public TrainingResult Result() => new(Options, steps.ToArray(), evaluations.ToArray(), Task.Baseline.Loss, Task.Baseline.Description,
        Task.Baseline.Accuracy, Model.Parameters().Sum(p => p.Size)) { HessianFree = hessianFree.ToArray(), Curvature = curvature.ToArray() };

    /// <summary>Evaluates on the fixed held-out batch (without the tape, a training batch's worth of sequences at a time) and records it.</summary>
    public EvalRecord Evaluate()
    {
        var (loss, accuracy) = evalBatches.Evaluate(Model, Task);
        var record = new EvalRecord(CompletedSteps, loss, accuracy);
        evaluations.Add(record);
        OnEvaluation?.Invoke(record);
        return record;
    }

    /// <summary>Saves parameters, optimizer state and options (see <see cref="Checkpoint"/>).</summary>
    public void SaveCheckpoint(string path) => Checkpoint.Save(path, this);

    /// <summary>Continues a run from a checkpoint written by <see cref="SaveCheckpoint"/>; <paramref name="steps"/> may extend it.</summary>
    public static Trainer<T> Resume(string path, int? steps = null)
    {
        var (options, completed) = Checkpoint.Read<T>(path);
        if (steps is int s)
        {
            if (s < completed) throw new ArgumentException($"--steps {s} is fewer than the {completed} steps the checkpoint '{path}' has already completed.");
            options = options with { Steps = s };
        }
        var trainer = new Trainer<T>(options);
        Checkpoint.Restore(path, trainer, completed);
        return trainer;
    }

    internal Optimizer<T> Optimizer => optimizer;

    /// <summary>Puts back the records of the steps and evaluations a checkpoint was saved after.</summary>
    internal void RestoreHistory(IEnumerable<StepRecord> completedSteps, IEnumerable<EvalRecord> pastEvaluations, int completed)
    {
        steps.Clear();
        steps.AddRange(completedSteps);
        evaluations.Clear();
        evaluations.AddRange(pastEvaluations);
        CompletedSteps = completed;
    }

    /// <summary>A generator for batch <paramref name="step"/> that depends only on the seed and the step.</summary>
    internal static Rng BatchRng(ulong seed, int step) => new(seed * 0x9E3779B97F4A7C15UL + (ulong)step);

    private static Optimizer<T> CreateOptimizer(TrainingOptions o, IReadOnlyList<Tensor<T>> p) => o.Optimizer switch
    {
        "adam" => new Adam<T>(p, o.LearningRate, weightDecay: o.WeightDecay),
        "adamw" => new AdamW<T>(p, o.LearningRate, weightDecay: o.WeightDecay),
        "sgd" => new Sgd<T>(p, o.LearningRate, weightDecay: o.WeightDecay),
        "momentum" => new Sgd<T>(p, o.LearningRate, momentum: 0.9, weightDecay: o.WeightDecay),
        "nesterov" => new Sgd<T>(p, o.LearningRate, momentum: 0.9, nesterov: true, weightDecay: o.WeightDecay),
        "rmsprop" => new RmsProp<T>(p, o.LearningRate, weightDecay: o.WeightDecay),
        "hf" => new HessianFree<T>(p, new HessianFreeOptions
        {
            InitialDamping = o.HfDamping, StructuralDamping = o.HfStructuralDamping,
            ConjugateGradient = new ConjugateGradientOptions { MaxIterations = o.HfCgIterations },
        }),
        _ => throw new ArgumentException($"Unknown optimizer '{o.Optimizer}'; valid: {string.Join(", ", TrainingOptions.Optimizers)}."),
    };

    private static ILearningRateSchedule CreateSchedule(TrainingOptions o)
    {
        int decaySteps = Math.Max(1, o.Steps - o.WarmupSteps);
        ILearningRateSchedule main = o.Schedule switch
        {
            "cosine" => new CosineAnnealing(o.LearningRate, decaySteps),
            "step" => new StepDecay(o.LearningRate, Math.Max(1, decaySteps / 4), 0.5),
            _ => new ConstantLearningRate(o.LearningRate),
        };
        return o.WarmupSteps > 0 ? new LinearWarmup(o.WarmupSteps, main) : main;
    }
}
