using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Experiments;

/// <summary>Every invalid setting is refused by the trainer's constructor, before a model is built, with the option and the valid values named.</summary>
public class TrainingOptionsTests
{
    private static string Refusal(TrainingOptions options)
    {
        var e = Assert.Throws<ArgumentException>(() => new Trainer<float>(options));
        Assert.StartsWith("Invalid training options: ", e.Message);
        Assert.Equal(e.Message, Assert.Throws<ArgumentException>(options.Validate).Message);
        return e.Message;
    }

    [Fact]
    public void TheDefaultsAndTheTinyOptionsAreValid()
    {
        new TrainingOptions().Validate();
        TinyRuns.Options().Validate();
    }

    [Theory]
    [InlineData("SequenceLength", 0, "--seq-len must be positive, got 0")]
    [InlineData("Hidden", 0, "--hidden must be positive, got 0")]
    [InlineData("Hidden", -3, "--hidden must be positive, got -3")]
    [InlineData("Layers", 0, "--layers must be positive, got 0")]
    [InlineData("Batch", 0, "--batch must be positive, got 0")]
    [InlineData("Steps", -1, "--steps must be positive, got -1")]
    [InlineData("EvalEvery", -1, "--eval-every must be >= 0 (0: only at the end), got -1")]
    [InlineData("Hidden", 16385, "--hidden must be at most 16384")]
    [InlineData("EvalBatch", 0, "--eval-batch must be positive, got 0")]
    [InlineData("WarmupSteps", -2, "--warmup must be >= 0, got -2")]
    public void NonPositiveSizesAreRefused(string option, int value, string message)
    {
        var o = TinyRuns.Options();
        o = option switch
        {
            "SequenceLength" => o with { SequenceLength = value },
            "Hidden" => o with { Hidden = value },
            "Layers" => o with { Layers = value },
            "Batch" => o with { Batch = value },
            "Steps" => o with { Steps = value },
            "EvalEvery" => o with { EvalEvery = value },
            "EvalBatch" => o with { EvalBatch = value },
            _ => o with { WarmupSteps = value },
        };
        Assert.Contains(message, Refusal(o));
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ANonPositiveOrNonFiniteLearningRateIsRefused(double lr) =>
        Assert.Contains("--lr must be a positive finite number", Refusal(TinyRuns.Options() with { LearningRate = lr }));

    [Fact]
    public void BadClippingAndWeightDecayAreRefused()
    {
        Assert.Contains("--clip must be positive, got 0", Refusal(TinyRuns.Options() with { ClipNorm = 0 }));
        Assert.Contains("--clip-value must be positive, got -1", Refusal(TinyRuns.Options() with { ClipValue = -1 }));
        Assert.Contains("--weight-decay must be >= 0, got -0.1", Refusal(TinyRuns.Options() with { WeightDecay = -0.1 }));
    }

    [Fact]
    public void AnUnknownCellListsTheValidOnes()
    {
        string message = Refusal(TinyRuns.Options() with { Cell = "transformer" });
        Assert.Contains("unknown cell 'transformer'", message);
        Assert.Contains("valid cells: " + string.Join(", ", CellCatalog.Names), message);
        Assert.Contains("lstm-cifg", message);
    }

    [Fact]
    public void AnUnknownTaskListsTheValidOnes()
    {
        string message = Refusal(TinyRuns.Options() with { Task = "sorting" });
        Assert.Contains("unknown task 'sorting'", message);
        Assert.Contains("valid tasks: adding, copy, temporal-order, char-lm", message);
    }

    [Fact]
    public void UnknownOptimizerAndScheduleListTheValidOnes()
    {
        Assert.Contains("unknown optimizer 'lbfgs'; valid optimizers: adam, adamw, sgd, momentum, nesterov, rmsprop",
            Refusal(TinyRuns.Options() with { Optimizer = "lbfgs" }));
        Assert.Contains("unknown schedule 'exponential'; valid schedules: constant, cosine, step",
            Refusal(TinyRuns.Options() with { Schedule = "exponential" }));
    }

    [Theory]
    [InlineData("temporal-order", 9, "TemporalOrder: sequence length 9 is too short")]
    [InlineData("adding", 1, "AddingProblem: sequence length 1 is too short")]
    public void ASequenceTooShortForTheTaskIsRefused(string task, int length, string message)
    {
        string refusal = Refusal(TinyRuns.Options() with { Task = task, SequenceLength = length });
        Assert.Contains(message, refusal);
        // The minimum the message states is accepted.
        int minimum = TaskRegistry.Create<float>(task, 100).MinimumSequenceLength;
        Assert.Contains($">= {minimum}", refusal);
        (TinyRuns.Options() with { Task = task, SequenceLength = minimum }).Validate();
    }

    [Theory]
    [InlineData("gru")]
    [InlineData("rnn")]
    [InlineData("lstm-nfg")]
    [InlineData("lstm-cifg")]
    public void ForgetBiasOnACellWithoutItsOwnForgetGateIsRefused(string cell) =>
        Assert.Contains($"--forget-bias applies to LSTM cells with their own forget gate only, not '{cell}'",
            Refusal(TinyRuns.Options() with { Cell = cell, ForgetBias = 1 }));

    [Theory]
    [InlineData("lstm")]
    [InlineData("LSTM")]
    [InlineData("lstm-v")]
    [InlineData("lstm-fgr")]
    public void ForgetBiasOnACellWithAForgetGateIsAccepted(string cell)
    {
        var trainer = new Trainer<double>(TinyRuns.Options() with { Cell = cell, ForgetBias = 2.5 });
        var bias = trainer.Model.NamedParameters().Single(p => p.Key == "bias_ih_l0").Value.ToArray();
        int h = TinyRuns.Options().Hidden;
        // These cells keep all four gates in the order i, f, g, o: the forget slice is the second.
        Assert.All(bias.Skip(h).Take(h), b => Assert.Equal(2.5, b));
        Assert.DoesNotContain(2.5, bias.Take(h));
    }

    [Fact]
    public void AllProblemsAreReportedTogether()
    {
        string message = Refusal(TinyRuns.Options() with { Cell = "x", Hidden = 0, LearningRate = -1 });
        Assert.Contains("unknown cell 'x'", message);
        Assert.Contains("--hidden must be positive", message);
        Assert.Contains("--lr must be", message);
    }
}
