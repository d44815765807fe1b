namespace AutoDiffLstm.Training;

/// <summary>
/// Linear warm-up in front of another schedule (the gradual warm-up of Goyal et al. 2017, "Accurate, Large Minibatch
/// SGD: Training ImageNet in 1 Hour"): for step &lt; W the rate ramps as η(step) = η_after(0) · (step + 1) / W, reaching the following schedule's
/// first rate at step W − 1; from step W on, η(step) = η_after(step − W). Compose warm-up then cosine as
/// <c>new LinearWarmup(100, new CosineAnnealing(1e-3, 900))</c>.
/// </summary>
public sealed class LinearWarmup : ILearningRateSchedule
{
    /// <param name="warmupSteps">W &gt; 0.</param>
    /// <param name="after">The schedule that takes over after warm-up, started at its own step 0.</param>
    public LinearWarmup(int warmupSteps, ILearningRateSchedule after)
    {
        LearningRateSchedule.RequirePositive(nameof(LinearWarmup), nameof(warmupSteps), warmupSteps);
        WarmupSteps = warmupSteps;
        After = after ?? throw new ArgumentNullException(nameof(after));
    }

    /// <summary>A warm-up to a constant rate.</summary>
    public LinearWarmup(int warmupSteps, double targetRate) : this(warmupSteps, new ConstantLearningRate(targetRate)) { }

    /// <summary>W.</summary>
    public int WarmupSteps { get; }

    /// <summary>The schedule after warm-up.</summary>
    public ILearningRateSchedule After { get; }

    /// <inheritdoc/>
    public double LearningRate(int step)
    {
        LearningRateSchedule.RequireStep(nameof(LinearWarmup), step);
        if (step >= WarmupSteps) return After.LearningRate(step - WarmupSteps);
        return After.LearningRate(0) * (step + 1) / WarmupSteps;
    }
}
