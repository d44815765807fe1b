using System.Numerics;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Tests.Experiments;

/// <summary>Small training runs (a fraction of a second each) and bit-level comparisons of their outcomes.</summary>
internal static class TinyRuns
{
    /// <summary>An LSTM on the adding problem, T = 8, H = 6, B = 4, 12 Adam steps with clipping.</summary>
    public static TrainingOptions Options(bool asDouble = false) => new()
    {
        Cell = "lstm", Task = "adding", SequenceLength = 8, Hidden = 6, Batch = 4, Steps = 12, LearningRate = 0.01,
        ClipNorm = 1.0, EvalEvery = 5, EvalBatch = 16, Seed = 3, Double = asDouble,
    };

    public static double[] Losses(TrainingResult result) => result.Steps.Select(s => s.Loss).ToArray();

    /// <summary>Every parameter's and optimizer state tensor's values, by name.</summary>
    public static Dictionary<string, T[]> State<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T> =>
        trainer.Model.NamedParameters().Select(p => (p.Key, p.Value))
            .Concat(trainer.Optimizer.StateTensors().Select(s => ("optimizer." + s.Key, s.Value)))
            .Append(("optimizer.step_counts", trainer.Optimizer.StepCountsTensor()))
            .ToDictionary(x => x.Item1, x => x.Item2.ToArray());

    /// <summary>Asserts bit-identical values (NaN payloads aside), naming the first tensor and index that differ.</summary>
    public static void AssertIdentical<T>(Dictionary<string, T[]> expected, Dictionary<string, T[]> actual) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
        {
            var other = actual[name];
            Assert.Equal(values.Length, other.Length);
            for (int i = 0; i < values.Length; i++)
                if (!values[i].Equals(other[i])) Assert.Fail($"{name}[{i}]: {values[i]} vs {other[i]}.");
        }
    }

    /// <summary>Asserts two loss sequences are equal bit for bit.</summary>
    public static void AssertIdentical(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"{what}: element {i} differs: {expected[i]:R} vs {actual[i]:R}.");
    }
}
