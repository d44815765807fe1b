using System.Diagnostics;
using AutoDiffLstm.Recurrent;
using Xunit.Abstractions;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// T = 10,000: checkpointing with k = sqrt(T) gives the same gradients as plain backpropagation through time, and the
/// activations the tapes keep alive, counted element by element, grow like sqrt(T) instead of T.
/// </summary>
public class CheckpointLongHorizonTests(ITestOutputHelper output)
{
    private const int Steps = 10_000;

    [Fact]
    public void TenThousandStepsGiveTheSameGradients()
    {
        var layer = RecurrentLayer.Lstm<double>(1, 2, new Rng(21), forgetBias: 1.0);
        var x = Tensor.RandomNormal<double>(new Rng(22), [Steps, 1, 1]);
        var watch = Stopwatch.StartNew();
        var reference = CheckpointRuns.Run(layer, x, new SequenceOptions<double>());
        var plain = watch.Elapsed;
        var checkpointed = CheckpointRuns.Run(layer, x, new SequenceOptions<double> { CheckpointEvery = GradientCheckpoint.SqrtSteps });
        output.WriteLine($"T = {Steps}: plain {plain.TotalSeconds:F2} s, checkpointed {(watch.Elapsed - plain).TotalSeconds:F2} s");
        foreach (var name in new[] { "weight_ih_l0", "bias_ih_l0" })
        {
            var (a, b) = (reference.Gradients.Single(g => g.Name == name).Grad!, checkpointed.Gradients.Single(g => g.Name == name).Grad!);
            output.WriteLine($"{name}: relative difference {CheckpointRuns.RelativeDifference(a, b):G3}");
        }
        // Hoisting per segment sums the input-weight gradients over 10,000 rows in 100 partial sums, and each segment's
        // compiled sequence sums the recurrent weight's gradient over its own rows (the plain pass: one product over all
        // 10,000): rounding only.
        CheckpointRuns.AssertSame(reference, checkpointed, new HashSet<string> { "weight_ih_l0", "bias_ih_l0", "weight_hh_l0", "bias_hh_l0" }, relativeTolerance: 1e-13);
    }

    [Fact]
    public void TenThousandStepsWithPerStepProjectionGiveBitIdenticalGradients()
    {
        var layer = RecurrentLayer.Gru<double>(1, 2, new Rng(23));
        var x = Tensor.RandomNormal<double>(new Rng(24), [Steps, 1, 1]);
        var options = new SequenceOptions<double> { HoistInputProjection = false };
        CheckpointRuns.AssertSame(CheckpointRuns.Run(layer, x, options), CheckpointRuns.Run(layer, x, options with { CheckpointEvery = GradientCheckpoint.SqrtSteps }));
    }

    /// <summary>What the tapes hold at the worst moment of one forward and backward pass, in elements.</summary>
    private sealed record Footprint(long Plain, long Kept, long Segment)
    {
        /// <summary>Checkpointed peak: the caller's tape stays whole until backward ends, plus one segment's private tape.</summary>
        public long Peak => Kept + Segment;
    }

    /// <summary>
    /// Elements of the arrays that recorded operations created and the tape keeps referenced: every activation backward
    /// can reach. Not counted: leaves (x, parameters, constants) and the layer's result, the [T, B, H] output and the
    /// per-step outputs (or segments' output stacks) it is joined from, which any BPTT (and the caller) must hold whether
    /// or not it checkpoints. (A compiled sequence's output stack is read from its token, whose storage is every step's
    /// saved values: that is counted.)
    /// </summary>
    private static long Activations(Tape tape, Tensor<double>? result)
    {
        var notActivations = new HashSet<double[]>(ReferenceEqualityComparer.Instance);
        var operations = tape.Operations().ToArray();
        var names = tape.OperationNames();
        for (int k = 0; k < operations.Length; k++)
        {
            var (o, inputs) = operations[k];
            foreach (Tensor<double> i in inputs.Where(i => i.IsLeaf)) notActivations.Add(i.Data);
            if (ReferenceEquals(o, result))
            {
                notActivations.Add(result.Data);
                if (names[k] is "Stack" or "Concat") foreach (Tensor<double> i in inputs) notActivations.Add(i.Data);
            }
        }
        var counted = new HashSet<double[]>(ReferenceEqualityComparer.Instance);
        long total = 0;
        foreach (var (o, _) in operations)
        {
            var data = ((Tensor<double>)o).Data;
            if (!notActivations.Contains(data) && counted.Add(data)) total += data.Length;
        }
        return total;
    }

    private static Footprint Measure(int steps)
    {
        var layer = RecurrentLayer.Lstm<double>(2, 4, new Rng(25));
        var x = Tensor.RandomNormal<double>(new Rng(26), [steps, 1, 2]);

        Tape.Current.Reset();
        var plain = layer.Forward(x);
        long plainCount = Activations(Tape.Current, plain.Output);
        Tape.Current.Reset();

        long segment = 0;
        GradientCheckpoint.SegmentTapeObserver = t => segment = Math.Max(segment, Activations(t, null));
        try
        {
            var result = layer.Forward(x, new SequenceOptions<double> { CheckpointEvery = GradientCheckpoint.SqrtSteps });
            long kept = Activations(Tape.Current, result.Output);
            (result.Output.Sum() + result.FinalStates[0]["c"].Sum()).Backward();
            Assert.All(layer.NamedParameters(), p => Assert.NotNull(p.Value.Grad)); // the segments were really differentiated
            foreach (var p in layer.NamedParameters()) p.Value.ZeroGrad();
            return new Footprint(plainCount, kept, segment);
        }
        finally
        {
            GradientCheckpoint.SegmentTapeObserver = null;
        }
    }

    [Fact]
    public void ActivationMemoryGrowsLikeTheSquareRootOfTheSequenceLength()
    {
        var big = Measure(Steps);
        var small = Measure(Steps / 4);
        double perStep = (double)big.Plain / Steps, root = Math.Sqrt(Steps);
        output.WriteLine($"T = {Steps}: plain {big.Plain} elements ({perStep:F1} per step); checkpointed: caller's tape {big.Kept} + one segment {big.Segment} = {big.Peak} " +
                         $"= {big.Peak / (root * perStep):F2} sqrt(T) steps; {(double)big.Plain / big.Peak:F0}x less");
        output.WriteLine($"T = {Steps / 4}: plain {small.Plain}, checkpointed {small.Kept} + {small.Segment} = {small.Peak}");

        // k = sqrt(T): the caller's tape keeps T/k boundary states (less than a step each) and backward holds the k steps
        // of one segment, so the peak is below 2 sqrt(T) steps' worth of activations.
        Assert.True(big.Peak < 2 * root * perStep, $"checkpointed peak {big.Peak} is not below 2 sqrt(T) * {perStep:F1}");
        Assert.True(big.Plain > 40 * big.Peak, $"plain {big.Plain} is not 40 times checkpointed {big.Peak}");
        // Growth from T/4 to T: linear (x4) without checkpointing, square root (x2) with it.
        Assert.InRange((double)big.Plain / small.Plain, 3.9, 4.1);
        Assert.InRange((double)big.Peak / small.Peak, 1.8, 2.2);
    }
}
