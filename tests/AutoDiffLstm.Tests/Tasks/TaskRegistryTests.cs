using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class TaskRegistryTests
{
    [Fact]
    public void ListsEveryTask() => Assert.Equal(["adding", "copy", "temporal-order", "char-lm", "selective-copy", "assoc-recall"], TaskRegistry.Names);

    [Theory]
    [InlineData("adding", 50, 50, 2, 1, TaskLoss.MeanSquaredError, LossPlacement.LastStep)]
    [InlineData("copy", 50, 70, 10, 10, TaskLoss.CrossEntropy, LossPlacement.EveryStep)]
    [InlineData("Temporal-Order", 50, 50, 8, 4, TaskLoss.CrossEntropy, LossPlacement.LastStep)]
    [InlineData(" char-lm ", 50, 50, -1, -1, TaskLoss.CrossEntropy, LossPlacement.EveryStep)]
    public void CreatesEachTaskWithItsShapeAndLoss(string name, int length, int steps, int inputs, int outputs, TaskLoss loss, LossPlacement placement)
    {
        var task = TaskRegistry.Create<float>(name, length);
        Assert.Equal(name.Trim().ToLowerInvariant(), task.Name);
        Assert.Equal(length, task.SequenceLength);
        Assert.Equal(steps, task.Steps);
        if (inputs > 0) Assert.Equal(inputs, task.InputSize);
        if (outputs > 0) Assert.Equal(outputs, task.OutputSize);
        Assert.Equal(loss, task.Loss);
        Assert.Equal(placement, task.LossPlacement);
        Assert.True(task.Baseline.Loss > 0);
        var data = task.NextBatch(new Rng(1), 3);
        Assert.Equal([task.Steps, 3, task.InputSize], data.Inputs.Shape);
        if (loss == TaskLoss.MeanSquaredError) Assert.Equal([3, task.OutputSize], data.RegressionTargets!.Shape);
        else Assert.Equal(placement == LossPlacement.LastStep ? 3 : task.Steps * 3, data.ClassTargets!.Length);
    }

    [Fact]
    public void UnknownNameErrorListsTheValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => TaskRegistry.Create<double>("parity", 10));
        Assert.Contains("'parity'", e.Message);
        foreach (var n in TaskRegistry.Names) Assert.Contains(n, e.Message);
        Assert.False(TaskRegistry.Contains("parity"));
        Assert.True(TaskRegistry.Contains("COPY"));
    }

    [Theory]
    [InlineData("adding")]
    [InlineData("copy")]
    [InlineData("temporal-order")]
    [InlineData("char-lm")]
    public void EachTaskRejectsALengthBelowItsMinimum(string name)
    {
        int min = TaskRegistry.Create<double>(name, 50).MinimumSequenceLength;
        TaskRegistry.Create<double>(name, min);   // the minimum itself is accepted
        var e = Assert.Throws<ArgumentException>(() => TaskRegistry.Create<double>(name, min - 1));
        Assert.Contains("too short", e.Message);
        Assert.Contains($">= {min}", e.Message);
    }
}
