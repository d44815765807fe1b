using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class SelectiveCopyingTests
{
    [Fact]
    public void TenSymbolsAtDistinctRandomPositionsAreTheTargetsAfterTheDelimiter()
    {
        var task = new SelectiveCopying<double>(30);
        Assert.Equal(41, task.Steps);
        var batch = task.NextBatch(new Rng(1), 64);
        var ids = batch.InputIds!;
        var targets = batch.ClassTargets!;
        var firstPositions = new HashSet<int>();
        for (int b = 0; b < 64; b++)
        {
            var symbols = Enumerable.Range(0, 30).Where(t => ids[t * 64 + b] != CopyMemory<double>.Blank).ToArray();
            Assert.Equal(10, symbols.Length);
            firstPositions.Add(symbols[0]);
            Assert.All(symbols, t => Assert.InRange(ids[t * 64 + b], 0, 7));
            Assert.Equal(CopyMemory<double>.Delimiter, ids[30 * 64 + b]);
            for (int t = 0; t <= 30; t++) Assert.Equal(CopyMemory<double>.Blank, targets[t * 64 + b]);
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(ids[symbols[i] * 64 + b], targets[(31 + i) * 64 + b]);
                Assert.Equal(CopyMemory<double>.Blank, ids[(31 + i) * 64 + b]);
            }
        }
        // Random positions, not the fixed first ten steps of copy memory.
        Assert.True(firstPositions.Count > 3, $"the first symbol always sits at one of {string.Join(", ", firstPositions)}");
        // One-hot inputs agree with the ids.
        for (int r = 0; r < ids.Length; r++) Assert.Equal(1.0, batch.Inputs.AsSpan()[r * 10 + ids[r]]);
    }

    [Fact]
    public void BaselineIsTheMemorylessCrossEntropyAndShortSequencesAreRejected()
    {
        Assert.Equal(10 * Math.Log(8) / 111, new SelectiveCopying<float>(100).Baseline.Loss, 12);
        var e = Assert.Throws<ArgumentException>(() => new SelectiveCopying<float>(9));
        Assert.Contains("SelectiveCopying", e.Message);
        Assert.Equal("selective-copy", TaskRegistry.Create<float>("selective-copy", 20).Name);
    }
}
