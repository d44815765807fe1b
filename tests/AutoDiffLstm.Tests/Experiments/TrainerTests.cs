using System.Numerics;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Experiments;

/// <summary>The training loop: reproducibility, resuming bit for bit, and stopping on divergence.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TwoRunsWithTheSameOptionsAreBitIdenticalInFloat() => SameOptionsSameRun<float>(TinyRuns.Options());

    [Fact]
    public void TwoRunsWithTheSameOptionsAreBitIdenticalInDouble() => SameOptionsSameRun<double>(TinyRuns.Options(asDouble: true));

    private static void SameOptionsSameRun<T>(TrainingOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new Trainer<T>(options);
        var b = new Trainer<T>(options);
        var ra = a.Run();
        var rb = b.Run();

        Assert.Equal(options.Steps, ra.Steps.Count);
        TinyRuns.AssertIdentical(TinyRuns.Losses(ra), TinyRuns.Losses(rb), "training loss");
        TinyRuns.AssertIdentical(ra.Steps.Select(s => s.GradNorm).ToArray(), rb.Steps.Select(s => s.GradNorm).ToArray(), "gradient norm");
        TinyRuns.AssertIdentical(ra.Evaluations.Select(e => e.Loss).ToArray(), rb.Evaluations.Select(e => e.Loss).ToArray(), "held-out loss");
        Assert.Equal([5, 10, 12], ra.Evaluations.Select(e => e.Step));
        TinyRuns.AssertIdentical(TinyRuns.State(a), TinyRuns.State(b));

        // The comparison can fail: another seed gives other losses from the first step on.
        var other = new Trainer<T>(options with { Seed = options.Seed + 1 }).Run();
        Assert.NotEqual(ra.Steps[0].Loss, other.Steps[0].Loss);
    }

    [Fact]
    public void AShortRunResumedToNStepsEqualsAnNStepRunInFloat() => ResumeEqualsUninterrupted<float>(TinyRuns.Options(), 5);

    [Fact]
    public void AShortRunResumedToNStepsEqualsAnNStepRunInDouble() => ResumeEqualsUninterrupted<double>(TinyRuns.Options(asDouble: true), 7);

    /// <summary>A run of k steps, checkpointed, then resumed with --steps N: the same losses and final state as N steps at once.</summary>
    private void ResumeEqualsUninterrupted<T>(TrainingOptions options, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var full = new Trainer<T>(options);
        var fullLosses = TinyRuns.Losses(full.Run());

        var first = new Trainer<T>(options with { Steps = k });
        var firstLosses = TinyRuns.Losses(first.Run());
        string path = temp.File($"k{k}.safetensors");
        first.SaveCheckpoint(path);

        var resumed = Trainer<T>.Resume(path, options.Steps);
        Assert.Equal(k, resumed.CompletedSteps);
        Assert.Equal(options.Steps, resumed.Options.Steps);
        var rest = resumed.Run();

        // The resumed run's result covers the whole run: the first k records come from the checkpoint.
        Assert.Equal(Enumerable.Range(1, options.Steps), rest.Steps.Select(s => s.Step));
        TinyRuns.AssertIdentical(firstLosses, TinyRuns.Losses(rest)[..k], "losses of the first k steps, from the checkpoint");
        TinyRuns.AssertIdentical(fullLosses, TinyRuns.Losses(rest), "losses of k steps + resumed steps");
        TinyRuns.AssertIdentical(TinyRuns.State(full), TinyRuns.State(resumed));
        Assert.Equal(full.Result().Final.Loss, rest.Final.Loss);
    }

    /// <summary>
    /// An interrupted run: a checkpoint written after step k of an N-step run (as --checkpoint-every does) continues to
    /// N exactly, also through a warm-up, a cosine schedule and momentum, whose values depend on the step and the run length.
    /// </summary>
    [Fact]
    public void ACheckpointFromTheMiddleOfARunContinuesItExactly()
    {
        var options = TinyRuns.Options() with { Optimizer = "nesterov", Schedule = "cosine", WarmupSteps = 3, LearningRate = 0.05, Layers = 2 };
        string path = temp.File("mid.safetensors");
        var full = new Trainer<float>(options);
        full.OnStep = s => { if (s.Step == 6) full.SaveCheckpoint(path); };
        var fullResult = full.Run();

        var resumed = Trainer<float>.Resume(path);
        var rest = resumed.Run();

        TinyRuns.AssertIdentical(TinyRuns.Losses(fullResult), TinyRuns.Losses(rest), "losses");
        TinyRuns.AssertIdentical(fullResult.Steps.Select(s => s.LearningRate).ToArray(), rest.Steps.Select(s => s.LearningRate).ToArray(), "learning rates");
        Assert.Equal(fullResult.Evaluations, rest.Evaluations);
        TinyRuns.AssertIdentical(TinyRuns.State(full), TinyRuns.State(resumed));
        // The readable copy of the options next to the checkpoint.
        Assert.Contains("\"completed_steps\": 6", File.ReadAllText(path + ".json"));
    }

    [Fact]
    public void ResumingWithFewerStepsThanCompletedIsRefused()
    {
        var trainer = new Trainer<float>(TinyRuns.Options() with { Steps = 6 });
        trainer.Run();
        string path = temp.File("six.safetensors");
        trainer.SaveCheckpoint(path);
        var e = Assert.Throws<ArgumentException>(() => Trainer<float>.Resume(path, 4));
        Assert.Contains("--steps 4", e.Message);
        Assert.Contains("6 steps", e.Message);
    }

    /// <summary>Plain SGD with learning rate 1e4 on an IRNN (ReLU, identity recurrence, no saturation) overflows within a few steps.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ANonFiniteLossStopsTrainingNamingTheStepWithAHint(bool asDouble)
    {
        var options = TinyRuns.Options(asDouble) with { Cell = "irnn", Optimizer = "sgd", LearningRate = 1e4, ClipNorm = null, Steps = 50, EvalEvery = 100 };
        var seen = new List<StepRecord>();
        TrainingDivergedException e;
        Dictionary<string, double[]> before;
        if (asDouble)
        {
            var trainer = new Trainer<double>(options) { OnStep = seen.Add };
            e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
            Assert.Equal(e.Step - 1, trainer.CompletedSteps);
            before = TinyRuns.State(trainer);
            Assert.All(before.Values.SelectMany(v => v), v => Assert.True(double.IsFinite(v)));
        }
        else
        {
            var trainer = new Trainer<float>(options) { OnStep = seen.Add };
            e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
            Assert.Equal(e.Step - 1, trainer.CompletedSteps);
            Assert.Equal(e.Step - 1, trainer.Result().Steps.Count);
            Assert.Empty(trainer.Result().Evaluations);
        }
        Assert.InRange(e.Step, 2, 50);
        Assert.Equal(e.Step - 1, seen.Count);
        Assert.Contains($"step {e.Step}:", e.Message);
        Assert.Contains("--lr", e.Message);
        Assert.Contains("--clip", e.Message);
    }

    [Fact]
    public void AResultWithoutEvaluationsSaysSoInsteadOfFailingWithAnIndexError()
    {
        var trainer = new Trainer<float>(TinyRuns.Options());
        var result = trainer.Result();
        Assert.Null(result.LastEvaluation);
        var e = Assert.Throws<InvalidOperationException>(() => result.Final);
        Assert.Contains("no evaluation", e.Message);
    }
}
