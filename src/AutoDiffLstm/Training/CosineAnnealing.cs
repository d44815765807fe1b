namespace AutoDiffLstm.Training;

/// <summary>
/// Cosine annealing without restarts (Loshchilov &amp; Hutter 2017, "SGDR: Stochastic Gradient Descent with Warm
/// Restarts", eq. 5, one cycle): η(step) = η_min + (η_max − η_min) · (1 + cos(π · step / totalSteps)) / 2 for
/// 0 &lt;= step &lt;= totalSteps, and η_min after that. (PyTorch's closed form keeps following the cosine past
/// totalSteps, so the rate would rise again; holding η_min is what a single annealing run wants.)
/// </summary>
public sealed class CosineAnnealing : ILearningRateSchedule
{
    /// <param name="maxRate">η_max, the rate at step 0.</param>
    /// <param name="totalSteps">Steps to reach η_min, &gt; 0.</param>
    /// <param name="minRate">η_min, &lt;= η_max.</param>
    public CosineAnnealing(double maxRate, int totalSteps, double minRate = 0)
    {
        LearningRateSchedule.RequireRate(nameof(CosineAnnealing), nameof(maxRate), maxRate);
        LearningRateSchedule.RequirePositive(nameof(CosineAnnealing), nameof(totalSteps), totalSteps);
        LearningRateSchedule.RequireRate(nameof(CosineAnnealing), nameof(minRate), minRate);
        if (minRate > maxRate)
            throw new ArgumentOutOfRangeException(nameof(minRate), minRate, $"CosineAnnealing: minRate ({minRate}) must be <= maxRate ({maxRate}).");
        MaxRate = maxRate;
        TotalSteps = totalSteps;
        MinRate = minRate;
    }

    /// <summary>η_max.</summary>
    public double MaxRate { get; }

    /// <summary>Length of the annealing.</summary>
    public int TotalSteps { get; }

    /// <summary>η_min.</summary>
    public double MinRate { get; }

    /// <inheritdoc/>
    public double LearningRate(int step)
    {
        LearningRateSchedule.RequireStep(nameof(CosineAnnealing), step);
        if (step >= TotalSteps) return MinRate;
        return MinRate + (MaxRate - MinRate) * 0.5 * (1 + Math.Cos(Math.PI * step / TotalSteps));
    }
}
