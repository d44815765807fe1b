using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Tests.Experiments;

/// <summary>The memory estimate that <c>adl train</c> checks before it starts, against what the tape really keeps.</summary>
public sealed class MemoryEstimateTests
{
    /// <summary>The activations the tape keeps after the forward pass of a real training step.</summary>
    private static long MeasuredActivations(TrainingOptions options)
    {
        var trainer = new Trainer<float>(options);
        var batch = trainer.Task.NextBatch(new Rng(5), options.Batch);
        Tape.Current.Reset();
        trainer.Model.Loss(trainer.Task, batch);
        long bytes = Tape.Current.ActivationBytes();
        Tape.Current.Reset();
        return bytes;
    }

    // Shapes far from the probes (T 8/16, H 4/8, B 2) so that the test checks the extrapolation, not the probe.
    [Theory]
    [InlineData("lstm", "adding", 60, 24, 6, 1)]
    [InlineData("gru", "adding", 60, 40, 3, 2)]
    [InlineData("rnn", "copy", 30, 32, 5, 1)]
    [InlineData("lstm", "copy", 30, 20, 4, 3)]
    public void TheActivationEstimateIsWithinTenPercentOfTheTape(string cell, string task, int length, int hidden, int batch, int layers)
    {
        var options = new TrainingOptions { Cell = cell, Task = task, SequenceLength = length, Hidden = hidden, Batch = batch, Layers = layers };
        long measured = MeasuredActivations(options);
        long estimated = MemoryEstimate.Of(options).ActivationBytes;
        double ratio = (double)estimated / measured;
        Assert.True(ratio is > 0.9 and < 1.1, $"{cell} on {task}, T = {length}, H = {hidden}, B = {batch}, {layers} layers: estimated {estimated:N0} bytes, the tape keeps {measured:N0} (ratio {ratio:F3}).");
    }

    [Fact]
    public void CheckpointingShrinksTheEstimateAndCoversWhatTheTapeKeeps()
    {
        var plain = new TrainingOptions { Cell = "lstm", SequenceLength = 400, Hidden = 16, Batch = 4 };
        var checkpointed = plain with { GradientCheckpoint = -1 };
        long stored = MeasuredActivations(checkpointed);
        long estimate = MemoryEstimate.Of(checkpointed).ActivationBytes, full = MemoryEstimate.Of(plain).ActivationBytes;
        // The estimate adds one recomputed segment (k = 20 steps of 400) to what the segments store.
        Assert.True(estimate >= stored && estimate < 3 * stored, $"checkpointed estimate {estimate:N0} bytes, the tape stores {stored:N0}");
        // Both keep the stacked states (2 x H per row and step); the plain pass adds what backward reads of each step (7 x H
        // for an LSTM), the checkpointed one that of a single segment: 3.6x less here.
        Assert.True(estimate < full / 3, $"checkpointed estimate {estimate:N0} bytes is not far below the plain {full:N0}");
    }

    [Fact]
    public void TheTotalGrowsWithTheSequenceAndCountsParametersAndData()
    {
        var small = new TrainingOptions { Cell = "lstm", SequenceLength = 100, Hidden = 64, Batch = 32 };
        var large = small with { SequenceLength = 100_000 };
        var (s, l) = (MemoryEstimate.Of(small), MemoryEstimate.Of(large));
        double stepRatio = (double)l.ActivationBytes / s.ActivationBytes;
        Assert.InRange(stepRatio, 900, 1100);
        // LSTM, I = 2, H = 64, read-out 64 -> 1: 4*64*(2+64) + 2*4*64 + 65 = 17,473 parameters, 4 bytes each.
        Assert.Equal(17_473 * 4, l.ParameterBytes, 4.0);
        Assert.True(l.TotalBytes > 2 * l.ActivationBytes, "the total holds the step's peak and more");
    }
}
