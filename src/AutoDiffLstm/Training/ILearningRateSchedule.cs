namespace AutoDiffLstm.Training;

/// <summary>
/// A learning rate as a function of the 0-based optimizer step. Apply it before each step:
/// <c>optimizer.LearningRate = schedule.LearningRate(step); optimizer.Step();</c>
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate for step <paramref name="step"/> (0-based, &gt;= 0).</summary>
    double LearningRate(int step);
}

/// <summary>Helpers shared by the schedules.</summary>
public static class LearningRateSchedule
{
    /// <summary>Sets <paramref name="optimizer"/>'s learning rate to the schedule's value at <paramref name="step"/>.</summary>
    public static void ApplyTo<T>(this ILearningRateSchedule schedule, Optimizer<T> optimizer, int step)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => optimizer.LearningRate = schedule.LearningRate(step);

    internal static void RequireStep(string schedule, int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, $"{schedule}: the step must be >= 0, got {step}.");
    }

    internal static void RequireRate(string schedule, string what, double value)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(what, value, $"{schedule}: {what} must be finite and >= 0, got {value}.");
    }

    internal static void RequirePositive(string schedule, string what, int value)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(what, value, $"{schedule}: {what} must be > 0, got {value}.");
    }
}

/// <summary>The same learning rate at every step.</summary>
public sealed class ConstantLearningRate : ILearningRateSchedule
{
    /// <param name="learningRate">The rate, finite and &gt;= 0.</param>
    public ConstantLearningRate(double learningRate)
    {
        LearningRateSchedule.RequireRate("ConstantLearningRate", nameof(learningRate), learningRate);
        Rate = learningRate;
    }

    /// <summary>The rate.</summary>
    public double Rate { get; }

    /// <inheritdoc/>
    public double LearningRate(int step)
    {
        LearningRateSchedule.RequireStep("ConstantLearningRate", step);
        return Rate;
    }
}
