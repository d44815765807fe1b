using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class AssociativeRecallTests
{
    [Fact]
    public void TheTargetIsTheValueStoredWithTheQueriedKey()
    {
        const int steps = 25, batchSize = 200;
        var task = new AssociativeRecall<double>(steps);
        var batch = task.NextBatch(new Rng(2), batchSize);
        var ids = batch.InputIds!;
        var asked = new int[4];
        for (int b = 0; b < batchSize; b++)
        {
            int Id(int t) => ids[t * batchSize + b];
            var keys = Enumerable.Range(0, 4).Select(p => Id(2 * p)).ToArray();
            Assert.Equal(4, keys.Distinct().Count());
            Assert.All(keys, k => Assert.InRange(k, 0, 7));
            for (int t = 8; t < steps - 2; t++) Assert.Equal(AssociativeRecall<double>.Blank, Id(t));
            Assert.Equal(AssociativeRecall<double>.Query, Id(steps - 2));
            int pair = Array.IndexOf(keys, Id(steps - 1));
            Assert.True(pair >= 0, "the query key was not stored");
            asked[pair]++;
            Assert.Equal(Id(2 * pair + 1) - 8, batch.ClassTargets![b]);
        }
        Assert.All(asked, n => Assert.InRange(n, 20, 80)); // every pair position gets queried
        Assert.Equal(Math.Log(8), task.Baseline.Loss, 12);
        Assert.Equal(0.125, task.Baseline.Accuracy);
        Assert.Equal(LossPlacement.LastStep, task.LossPlacement);
        Assert.Throws<ArgumentException>(() => new AssociativeRecall<double>(9));
    }
}
