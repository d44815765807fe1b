using AutoDiffLstm.Training;

namespace AutoDiffLstm.Tests.Training;

public class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(9, 0.1)]
    [InlineData(10, 0.05)]
    [InlineData(19, 0.05)]
    [InlineData(25, 0.025)]
    public void StepDecayHalvesEveryTenSteps(int step, double expected)
        => Assert.Equal(expected, new StepDecay(0.1, stepSize: 10, gamma: 0.5).LearningRate(step), 15);

    [Fact]
    public void CosineAnnealingAtChosenSteps()
    {
        var s = new CosineAnnealing(maxRate: 1.0, totalSteps: 100, minRate: 0.1);
        Assert.Equal(1.0, s.LearningRate(0), 15);
        Assert.Equal(0.1 + 0.9 * (1 + Math.Sqrt(0.5)) / 2, s.LearningRate(25), 15);   // cos(π/4) = √½
        Assert.Equal(0.55, s.LearningRate(50), 15);                                     // halfway: the mean of max and min
        Assert.Equal(0.1 + 0.9 * (1 - Math.Sqrt(0.5)) / 2, s.LearningRate(75), 15);
        Assert.Equal(0.1, s.LearningRate(100), 15);
        Assert.Equal(0.1, s.LearningRate(1000), 15);                                    // held at the minimum afterwards
    }

    [Fact]
    public void WarmupThenCosineComposes()
    {
        var s = new LinearWarmup(4, new CosineAnnealing(maxRate: 1.0, totalSteps: 10));
        Assert.Equal(0.25, s.LearningRate(0), 15);
        Assert.Equal(0.5, s.LearningRate(1), 15);
        Assert.Equal(0.75, s.LearningRate(2), 15);
        Assert.Equal(1.0, s.LearningRate(3), 15);
        Assert.Equal(1.0, s.LearningRate(4), 15);    // cosine step 0
        Assert.Equal(0.5, s.LearningRate(9), 15);    // cosine step 5 of 10
        Assert.Equal(0.0, s.LearningRate(14), 15);   // cosine step 10: the end
    }

    [Fact]
    public void WarmupToAConstantAndApplyToSetsTheOptimizerRate()
    {
        var s = new LinearWarmup(5, 0.02);
        var opt = new Sgd<double>([Tensor.Zeros<double>(2).RequireGrad()], 1.0);
        s.ApplyTo(opt, 1);
        Assert.Equal(0.008, opt.LearningRate, 15);
        s.ApplyTo(opt, 99);
        Assert.Equal(0.02, opt.LearningRate, 15);
    }

    [Fact]
    public void InvalidArgumentsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1, 10, minRate: 0.2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(0, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantLearningRate(double.NaN));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1, 5).LearningRate(-1));
        Assert.Contains("step", e.Message);
    }
}
