using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class CopyMemoryTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(30)]
    public void LayoutAndTargetsFollowTheDefinition(int delay)
    {
        var task = new CopyMemory<double>(delay);
        const int batch = 6;
        int steps = delay + 20;
        Assert.Equal(steps, task.Steps);
        var data = task.NextBatch(new Rng(1), batch);
        Assert.Equal([steps, batch, 10], data.Inputs.Shape);
        var ids = data.InputIds!;
        var targets = data.ClassTargets!;
        Assert.Equal(steps * batch, targets.Length);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                int id = ids[t * batch + b];
                // One-hot row agrees with the id.
                for (int c = 0; c < 10; c++) Assert.Equal(c == id ? 1.0 : 0.0, data.Inputs[t, b, c]);
                if (t < 10) Assert.InRange(id, 0, 7);
                else if (t == delay + 9) Assert.Equal(9, id);                 // the delimiter after T − 1 blanks
                else Assert.Equal(8, id);
                if (t < delay + 10) Assert.Equal(8, targets[t * batch + b]);
                else Assert.Equal(ids[(t - delay - 10) * batch + b], targets[t * batch + b]);   // the copied symbols, in order
            }
        }
    }

    [Fact]
    public void BaselineIsTenLogEightOverTPlusTwenty()
    {
        Assert.Equal(10 * Math.Log(8) / 120, new CopyMemory<double>(100).Baseline.Loss, 15);
        Assert.Equal(10 * Math.Log(8) / 21, new CopyMemory<float>(1).Baseline.Loss, 15);
        Assert.Contains("10 ln 8", new CopyMemory<double>(1).Baseline.Description);
    }

    [Fact]
    public void MemorylessPredictorScoresTheBaselineOnGeneratedBatches()
    {
        // Blank with certainty for the first T + 10 steps, uniform over the 8 symbols for the last 10, scored by the
        // engine's cross-entropy against the generated targets.
        const int delay = 15, batch = 5;
        var task = new CopyMemory<double>(delay);
        var data = task.NextBatch(new Rng(2), batch);
        var logits = new double[task.Steps * batch * 10];
        for (int t = 0; t < task.Steps; t++)
            for (int b = 0; b < batch; b++)
                for (int c = 0; c < 10; c++)
                {
                    bool recall = t >= delay + 10;
                    logits[(t * batch + b) * 10 + c] = recall ? (c < 8 ? 0 : -1000) : (c == 8 ? 0 : -1000);
                }
        double loss = Tensor.FromArray(logits, task.Steps * batch, 10).CrossEntropy(data.ClassTargets!).Item();
        Assert.Equal(task.Baseline.Loss, loss, 12);
    }

    [Fact]
    public void SymbolsAreDrawnFromAllEightDataClasses()
    {
        var data = new CopyMemory<double>(1).NextBatch(new Rng(3), 200);
        var seen = data.InputIds!.Take(10 * 200).Distinct().Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 8).ToArray(), seen);
    }

    [Fact]
    public void DeterministicWithSeed()
    {
        var task = new CopyMemory<float>(3);
        Assert.Equal(task.NextBatch(new Rng(4), 3).ClassTargets, task.NextBatch(new Rng(4), 3).ClassTargets);
        Assert.NotEqual(task.NextBatch(new Rng(4), 3).ClassTargets, task.NextBatch(new Rng(5), 3).ClassTargets);
    }

    [Fact]
    public void ZeroDelayThrows()
    {
        var e = Assert.Throws<ArgumentException>(() => new CopyMemory<double>(0));
        Assert.Contains("CopyMemory", e.Message);
        Assert.Contains(">= 1", e.Message);
    }
}
