using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class AddingProblemTests
{
    [Theory]
    [InlineData(20)]
    [InlineData(7)]
    [InlineData(2)]
    public void ExactlyTwoMarkersOneInEachHalfAndTheTargetIsTheirSum(int length)
    {
        var task = new AddingProblem<double>(length);
        const int batch = 64;
        var data = task.NextBatch(new Rng(1), batch);
        Assert.Equal([length, batch, 2], data.Inputs.Shape);
        Assert.Equal([batch, 1], data.RegressionTargets!.Shape);
        Assert.Null(data.ClassTargets);
        int half = length / 2;
        for (int b = 0; b < batch; b++)
        {
            var marked = new List<int>();
            for (int t = 0; t < length; t++)
            {
                double value = data.Inputs[t, b, 0], marker = data.Inputs[t, b, 1];
                Assert.InRange(value, 0.0, 1.0);
                Assert.True(value < 1.0);
                Assert.True(marker == 0 || marker == 1, $"marker {marker} at step {t}");
                if (marker == 1) marked.Add(t);
            }
            Assert.Equal(2, marked.Count);
            Assert.InRange(marked[0], 0, half - 1);
            Assert.InRange(marked[1], half, length - 1);
            Assert.Equal(data.Inputs[marked[0], b, 0] + data.Inputs[marked[1], b, 0], data.RegressionTargets[b, 0]);
        }
    }

    [Fact]
    public void FloatTargetsEqualTheSumOfTheStoredFloatValues()
    {
        var data = new AddingProblem<float>(10).NextBatch(new Rng(2), 16);
        for (int b = 0; b < 16; b++)
        {
            float sum = 0;
            for (int t = 0; t < 10; t++) if (data.Inputs[t, b, 1] == 1f) sum += data.Inputs[t, b, 0];
            Assert.Equal(sum, data.RegressionTargets![b, 0]);
        }
    }

    [Fact]
    public void MarkersCoverBothHalvesUniformly()
    {
        // With T = 8 each half has 4 steps; every step must be chosen sometimes.
        var data = new AddingProblem<double>(8).NextBatch(new Rng(3), 400);
        var hits = new int[8];
        for (int b = 0; b < 400; b++)
            for (int t = 0; t < 8; t++) if (data.Inputs[t, b, 1] == 1) hits[t]++;
        Assert.All(hits, h => Assert.InRange(h, 60, 140));   // expected 100 each
    }

    [Fact]
    public void PredictingOneHasMeanSquaredErrorNearOneSixth()
    {
        var task = new AddingProblem<double>(4);
        var y = task.NextBatch(new Rng(4), 40_000).RegressionTargets!.ToArray();
        double mse = y.Average(v => (v - 1) * (v - 1));
        // Standard error of this mean is about 0.2/√40000 = 0.001.
        Assert.Equal(1.0 / 6.0, mse, 0.006);
        Assert.Equal(1.0 / 6.0, task.Baseline.Loss, 15);
    }

    [Fact]
    public void SameSeedSameBatchDifferentSeedDifferentBatch()
    {
        var task = new AddingProblem<double>(12);
        var a = task.NextBatch(new Rng(9), 8);
        var b = task.NextBatch(new Rng(9), 8);
        var c = task.NextBatch(new Rng(10), 8);
        Assert.Equal(a.Inputs.ToArray(), b.Inputs.ToArray());
        Assert.Equal(a.RegressionTargets!.ToArray(), b.RegressionTargets!.ToArray());
        Assert.NotEqual(a.Inputs.ToArray(), c.Inputs.ToArray());
    }

    [Fact]
    public void TooShortSequenceThrows()
    {
        var e = Assert.Throws<ArgumentException>(() => new AddingProblem<double>(1));
        Assert.Contains("AddingProblem", e.Message);
        Assert.Contains("sequence length 1", e.Message);
        Assert.Contains(">= 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AddingProblem<double>(5).NextBatch(new Rng(1), 0));
    }
}
