namespace AutoDiffLstm.Training;

/// <summary>
/// Step decay (PyTorch's <c>StepLR</c>): η(step) = η₀ · γ^⌊step / stepSize⌋, i.e. the rate is multiplied by γ every
/// <see cref="StepSize"/> steps.
/// </summary>
public sealed class StepDecay : ILearningRateSchedule
{
    /// <param name="initialRate">η₀.</param>
    /// <param name="stepSize">Steps between decays, &gt; 0.</param>
    /// <param name="gamma">Multiplicative factor γ, finite and &gt;= 0 (usually &lt; 1).</param>
    public StepDecay(double initialRate, int stepSize, double gamma = 0.1)
    {
        LearningRateSchedule.RequireRate(nameof(StepDecay), nameof(initialRate), initialRate);
        LearningRateSchedule.RequirePositive(nameof(StepDecay), nameof(stepSize), stepSize);
        LearningRateSchedule.RequireRate(nameof(StepDecay), nameof(gamma), gamma);
        InitialRate = initialRate;
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>η₀.</summary>
    public double InitialRate { get; }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>γ.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public double LearningRate(int step)
    {
        LearningRateSchedule.RequireStep(nameof(StepDecay), step);
        return InitialRate * Math.Pow(Gamma, step / StepSize);
    }
}
