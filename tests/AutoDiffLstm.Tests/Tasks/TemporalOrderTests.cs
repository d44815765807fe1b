using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class TemporalOrderTests
{
    [Fact]
    public void LengthOneHundredUsesThePaperWindows()
    {
        var task = new TemporalOrder<double>(100);
        // 1-based positions [10, 20] and [50, 60] of Hochreiter & Schmidhuber (1997), as 0-based indices.
        Assert.Equal((9, 19), task.FirstPositionRange);
        Assert.Equal((49, 59), task.SecondPositionRange);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(10)]
    [InlineData(37)]
    public void SequencesHaveTheStructureAndLabelsMatchTheRelevantSymbols(int length)
    {
        var task = new TemporalOrder<double>(length);
        const int batch = 50;
        var data = task.NextBatch(new Rng(1), batch);
        Assert.Equal([length, batch, 8], data.Inputs.Shape);
        var ids = data.InputIds!;
        var labels = data.ClassTargets!;
        Assert.Equal(batch, labels.Length);
        for (int b = 0; b < batch; b++)
        {
            Assert.Equal(TemporalOrder<double>.SymbolE, ids[b]);
            Assert.Equal(TemporalOrder<double>.SymbolB, ids[(length - 1) * batch + b]);
            var relevant = new List<(int Step, int Symbol)>();
            for (int t = 1; t < length - 1; t++)
            {
                int id = ids[t * batch + b];
                Assert.Equal(1.0, data.Inputs[t, b, id]);
                if (id >= TemporalOrder<double>.SymbolX) relevant.Add((t, id));
                else Assert.InRange(id, 0, 3);   // a, b, c, d
            }
            Assert.Equal(2, relevant.Count);
            Assert.InRange(relevant[0].Step, task.FirstPositionRange.Min, task.FirstPositionRange.Max);
            Assert.InRange(relevant[1].Step, task.SecondPositionRange.Min, task.SecondPositionRange.Max);
            string order = $"{TemporalOrder<double>.Alphabet[relevant[0].Symbol]}{TemporalOrder<double>.Alphabet[relevant[1].Symbol]}";
            Assert.Equal(Array.IndexOf(["XX", "XY", "YX", "YY"], order), labels[b]);
        }
    }

    [Fact]
    public void ClassesAreEquallyLikelySoChanceIsOneQuarter()
    {
        var task = new TemporalOrder<double>(20);
        var labels = task.NextBatch(new Rng(2), 8000).ClassTargets!;
        for (int c = 0; c < 4; c++)
            Assert.Equal(0.25, labels.Count(l => l == c) / 8000.0, 0.02);
        Assert.Equal(0.25, task.Baseline.Accuracy);
        Assert.Equal(Math.Log(4), task.Baseline.Loss, 15);
        // Uniform logits score exactly ln 4 with the engine's cross-entropy.
        Assert.Equal(Math.Log(4), Tensor.Zeros<double>(8000, 4).CrossEntropy(labels).Item(), 12);
    }

    [Fact]
    public void DeterministicWithSeed()
    {
        var task = new TemporalOrder<float>(30);
        var a = task.NextBatch(new Rng(3), 4);
        var b = task.NextBatch(new Rng(3), 4);
        Assert.Equal(a.Inputs.ToArray(), b.Inputs.ToArray());
        Assert.Equal(a.ClassTargets, b.ClassTargets);
        Assert.NotEqual(a.InputIds, task.NextBatch(new Rng(4), 4).InputIds);
    }

    [Fact]
    public void TooShortSequenceThrows()
    {
        var e = Assert.Throws<ArgumentException>(() => new TemporalOrder<double>(9));
        Assert.Contains("TemporalOrder", e.Message);
        Assert.Contains(">= 10", e.Message);
    }
}
