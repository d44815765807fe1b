using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Tests.Experiments;

/// <summary>Training with gradient checkpointing follows the same trajectory as training without it.</summary>
public sealed class GradientCheckpointTrainingTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void CheckpointedTrainingMatchesPlainTrainingInDouble(int every)
    {
        var plain = new Trainer<double>(TinyRuns.Options(asDouble: true)).Run();
        var checkpointed = new Trainer<double>(TinyRuns.Options(asDouble: true) with { GradientCheckpoint = every }).Run();
        // Only the hoisted input projection's parameter gradients are summed in a different order (per segment), so
        // the trajectories agree to rounding, not bit for bit.
        var a = TinyRuns.Losses(plain);
        var b = TinyRuns.Losses(checkpointed);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-12 * Math.Max(1, Math.Abs(a[i])), $"step {i + 1}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void InvalidCheckpointSettingIsRejectedBeforeAnyWork()
    {
        var error = Assert.Throws<ArgumentException>(() => new Trainer<float>(TinyRuns.Options() with { GradientCheckpoint = -3 }));
        Assert.Contains("--grad-checkpoint", error.Message);
    }
}
