using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// A whole unrolled pass as one tape entry (CompiledSequence) against the same compiled step recorded one step at a
/// time (Compiler.StepByStep): the same forward bits, the same gradients up to the order of the weight-gradient sums,
/// for every registered cell, both directions and truncation; inference, retained state gradients shown after the
/// forward, forward mode through the entry, float, and what a training iteration allocates.
/// </summary>
public class CompiledSequenceTests
{
    public static TheoryData<string, bool> CellsAndDirections()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in CellRegistry.Names)
            foreach (bool reverse in new[] { false, true })
                data.Add(name, reverse);
        return data;
    }

    private sealed record Pass(double[] Output, double[][] Finals, double[] Middle, double[][] Grads, string[] Operations);

    /// <summary>One pass with a loss over the output, the final state and a state in the middle; every gradient read back.</summary>
    private static Pass Run(RecurrentCell<double> cell, Tensor<double> x, Tensor<double>[] initial, UnrollOptions<double> options, bool stepByStep)
    {
        Tape.Current.Reset();
        var leaves = cell.NamedParameters().Select(p => p.Value).Append(x).Concat(initial).ToArray();
        foreach (var leaf in leaves) leaf.ZeroGrad();
        UnrollResult<double> result;
        using (stepByStep ? Compiler.StepByStep() : default)
            result = Unroll.Run(cell, x, options with { InitialState = new RecurrentState<double>(cell.StateNames, initial) });
        var middle = result.States[x.Shape[0] / 2];
        var weights = Tensor.RandomNormal<double>(new Rng(9), [.. result.Output.Shape]);
        var loss = (result.Output * weights).Sum() + result.FinalState.Tensors.Select(s => s.Square().Sum()).Aggregate((a, b) => a + b) + middle[0].Tanh().Sum();
        var operations = Tape.Current.OperationNames().ToArray();
        loss.Backward();
        return new Pass(result.Output.ToArray(), [.. result.FinalState.Tensors.Select(s => s.ToArray())], middle[0].ToArray(),
            [.. leaves.Select(l => l.Grad?.ToArray() ?? [])], operations);
    }

    private static (RecurrentCell<double> Cell, Tensor<double> X, Tensor<double>[] Initial) Problem(string name, int steps = 9, int batch = 3)
    {
        var cell = CellRegistry.Create<double>(name, 4, 5, new Rng(1));
        var x = Tensor.RandomNormal<double>(new Rng(2), [steps, batch, 4]).RequireGrad();
        var rng = new Rng(3);
        var initial = cell.InitialState(batch).Tensors.Select(t => Tensor.RandomNormal<double>(rng, [.. t.Shape], std: 0.5).RequireGrad()).ToArray();
        return (cell, x, initial);
    }

    [Theory]
    [InlineData("lstm", 1, 1)]
    [InlineData("gru", 1, 4)]
    [InlineData("lstm", 2, 1)]
    [InlineData("rnn", 30, 1)]
    public void OneOrTwoStepsAndBatchOneAreTheSteppedPass(string name, int steps, int batch)
    {
        // The edge shapes of the buffer: one step (a recorded pass of one region, an inference pass of one), two steps
        // (the two regions of inference), a batch of one row (the products' single-row kernel, a weight-gradient batch of
        // 256 steps).
        var (cell, x, initial) = Problem(name, steps, batch);
        var options = new UnrollOptions<double>();
        var stepped = Run(cell, x, initial, options, stepByStep: true);
        var whole = Run(cell, x, initial, options, stepByStep: false);
        Assert.Contains("CompiledSequence", whole.Operations);
        Assert.Equal(stepped.Output, whole.Output);
        for (int k = 0; k < stepped.Grads.Length; k++) CompiledStepTests.AssertClose(stepped.Grads[k], whole.Grads[k], 1e-12, $"{name} T={steps} B={batch} gradient {k}");
        using var noGrad = Autograd.NoGrad();
        var inference = Unroll.Run(cell, x, options with { InitialState = new RecurrentState<double>(cell.StateNames, initial) });
        Assert.Equal(stepped.Output, inference.Output.ToArray());
    }

    [Theory]
    [MemberData(nameof(CellsAndDirections))]
    public void AWholeSequenceGivesTheSteppedPassesValuesAndGradients(string name, bool reverse)
    {
        var (cell, x, initial) = Problem(name);
        // ParallelForm off: the linear recurrences (LRU, minGRU, minLSTM) step too, here as one compiled sequence.
        var options = new UnrollOptions<double> { Reverse = reverse, DetachEvery = reverse ? 4 : 0, ParallelForm = false };
        var stepped = Run(cell, x, initial, options, stepByStep: true);
        var whole = Run(cell, x, initial, options, stepByStep: false);

        bool planned = !cell.ExplainCompiledStep(3).Contains("one tape entry per step", StringComparison.Ordinal);
        Assert.Equal(planned, whole.Operations.Contains("CompiledSequence"));
        Assert.DoesNotContain("CompiledSequence", stepped.Operations);
        Assert.True(name != "lstm" || planned, "the LSTM's step must run as one sequence");

        // The forward is the same operations in the same order: the same bits.
        Assert.Equal(stepped.Output, whole.Output);
        for (int k = 0; k < stepped.Finals.Length; k++) Assert.Equal(stepped.Finals[k], whole.Finals[k]);
        Assert.Equal(stepped.Middle, whole.Middle);
        // Backward sums a recurrent weight's gradient over many steps' rows in one product: rounding only.
        for (int k = 0; k < stepped.Grads.Length; k++) CompiledStepTests.AssertClose(stepped.Grads[k], whole.Grads[k], 1e-12, $"{name} gradient {k}");
    }

    [Fact]
    public void ASecondBackwardThroughARetainedPassSeesOnlyItsOwnStacksGradients()
    {
        // The token's gradient is written only where a stack's gradient arrives; a second backward over the same
        // recording must start afresh (here the first reads the c stack, the second does not).
        var (cell, x, initial) = Problem("lstm");
        var leaves = cell.NamedParameters().Select(p => p.Value).Append(x).Concat(initial).ToArray();
        double[][] Gradients()
        {
            var grads = leaves.Select(l => l.Grad!.ToArray()).ToArray();
            foreach (var leaf in leaves) leaf.ZeroGrad();
            return grads;
        }
        UnrollResult<double> Forward()
        {
            Tape.Current.Reset();
            foreach (var leaf in leaves) leaf.ZeroGrad();
            return Unroll.Run(cell, x, new UnrollOptions<double> { InitialState = new RecurrentState<double>(cell.StateNames, initial) });
        }
        Tensor<double> OutputLoss(UnrollResult<double> r) => r.Output.Tanh().Sum();
        Tensor<double> CellStateLoss(UnrollResult<double> r) => r.States[4][1].Square().Sum();

        var both = Forward();
        CellStateLoss(both).Backward(retainGraph: true);
        var first = Gradients();
        OutputLoss(both).Backward();
        var second = Gradients();

        var alone = Forward();
        CellStateLoss(alone).Backward();
        Assert.Equal(Gradients(), first);
        alone = Forward();
        OutputLoss(alone).Backward();
        Assert.Equal(Gradients(), second);
    }

    [Fact]
    public void InferenceGivesTheSameBitsAndKeepsEveryState()
    {
        var (cell, x, initial) = Problem("gru");
        using var noGrad = Autograd.NoGrad();
        var options = new UnrollOptions<double> { InitialState = new RecurrentState<double>(cell.StateNames, initial) };
        var whole = Unroll.Run(cell, x, options);
        UnrollResult<double> stepped;
        using (Compiler.StepByStep()) stepped = Unroll.Run(cell, x, options);
        Assert.Equal(stepped.Output.ToArray(), whole.Output.ToArray());
        Assert.Equal(stepped.States.Count, whole.States.Count);
        for (int t = 0; t < stepped.States.Count; t++) Assert.Equal(stepped.States[t][0].ToArray(), whole.States[t][0].ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => whole.States[x.Shape[0]]);
    }

    [Theory]
    [InlineData("lstm", false)]
    [InlineData("gru", true)]
    public void AStateRetainedAfterTheForwardGetsItsTotalGradient(string name, bool reverse)
    {
        // RetainStateGradients records step by step; RetainGrad on States[t] after a whole-sequence forward must give the same dL/ds_t.
        var (cell, x, initial) = Problem(name);
        double[][] Grads(bool retainOption)
        {
            Tape.Current.Reset();
            var options = new UnrollOptions<double> { Reverse = reverse, RetainStateGradients = retainOption, InitialState = new RecurrentState<double>(cell.StateNames, initial) };
            var result = Unroll.Run(cell, x, options);
            var states = result.States.SelectMany(s => s.Tensors).ToArray();
            if (!retainOption) foreach (var s in states) s.RetainGrad();
            Assert.Equal(!retainOption, Tape.Current.OperationNames().Contains("CompiledSequence"));
            (result.Output.Sin().Sum() + result.FinalState[0].Sum()).Backward();
            return [.. states.Select(s => s.Grad?.ToArray() ?? throw new Xunit.Sdk.XunitException("no gradient reached a state"))];
        }
        var expected = Grads(retainOption: true);
        var actual = Grads(retainOption: false);
        for (int k = 0; k < expected.Length; k++) CompiledStepTests.AssertClose(expected[k], actual[k], 1e-12, $"dL/ds {k}");
    }

    [Theory]
    [MemberData(nameof(CellsAndDirections))]
    public void ForwardModeThroughTheWholeSequenceEqualsTheSteppedOne(string name, bool reverse)
    {
        // Tangents of every parameter, the input sequence and the initial state, pushed over a tape recorded step by step
        // (each fused group's own tangent rule) and over one recorded as a whole sequence (the entry's tangent pass, and
        // with recording on, its replay of the steps), through the final state and a state in the middle too.
        var (cell, x, initial) = Problem(name);
        var primals = cell.NamedParameters().Select(p => p.Value).Append(x).Concat(initial).ToArray();
        var v = primals.Select((p, i) => Tensor.RandomNormal<double>(new Rng(40 + (ulong)i), [.. p.Shape])).ToArray();
        var options = new UnrollOptions<double> { Reverse = reverse, DetachEvery = reverse ? 4 : 0, ParallelForm = false };
        int parameters = cell.NamedParameters().Count;
        Tensor<double> F(Tensor<double>[] p)
        {
            var twin = cell.WithParameters(cell.NamedParameters().Select((kv, i) => KeyValuePair.Create(kv.Key, p[i])));
            var result = Unroll.Run(twin, p[parameters], options with { InitialState = new RecurrentState<double>(cell.StateNames, p[(parameters + 1)..]) });
            return result.Output.Tanh().Sum() + result.FinalState[0].Square().Sum() + result.States[4][^1].Sum();
        }
        double[] Push(bool stepByStep, bool recorded)
        {
            using var scope = Tape.UsePrivateTape();
            var leaves = primals.Select(p => p.Detach().RequireGrad()).ToArray();
            Tensor<double> y;
            using (stepByStep ? Compiler.StepByStep() : default) y = F(leaves);
            bool planned = !cell.ExplainCompiledStep(3).Contains("one tape entry per step", StringComparison.Ordinal);
            Assert.Equal(planned && !stepByStep, Tape.Current.OperationNames().Contains("CompiledSequence"));
            var pushed = new Tangents();
            for (int i = 0; i < leaves.Length; i++) pushed.Seed(leaves[i], v[i], "test");
            using (recorded ? default : Autograd.NoGrad()) Tape.Current.PushTangents(0, Tape.Current.Count, pushed);
            var tangent = pushed.Of<double>(y)!.ToArray();
            Tape.Current.Reset();
            return tangent;
        }
        var expected = Push(stepByStep: true, recorded: false);
        CompiledStepTests.AssertClose(expected, Push(stepByStep: false, recorded: false), 1e-12, $"{name}: J v through the whole sequence");
        if (name is "lstm" or "gru")
            CompiledStepTests.AssertClose(expected, Push(stepByStep: false, recorded: true), 1e-12, $"{name}: J v, recorded, through the replayed steps");
    }

    [Fact]
    public void AFloatWholeSequenceStaysWithinRoundingOfTheSteppedOne()
    {
        (float[] Out, float[] Grad) Go(bool stepByStep)
        {
            Tape.Current.Reset();
            var layer = RecurrentLayer.Lstm<float>(3, 16, new Rng(1));
            var x = Tensor.RandomNormal<float>(new Rng(2), [50, 4, 3]);
            using var steps = stepByStep ? Compiler.StepByStep() : default;
            var y = layer.Forward(x).Output;
            y.Square().Sum().Backward();
            return (y.ToArray(), layer.NamedParameters().Single(p => p.Key == "weight_hh_l0").Value.Grad!.ToArray());
        }
        var (a, b) = (Go(true), Go(false));
        Assert.Equal(a.Out, b.Out);
        // The recurrent weight's gradient is summed over 200 rows in another grouping: a few ulps of its scale (1e-5 relative).
        double scale = a.Grad.Max(Math.Abs), worst = 0;
        for (int i = 0; i < a.Grad.Length; i++) worst = Math.Max(worst, Math.Abs(a.Grad[i] - b.Grad[i]));
        Assert.True(worst <= 1e-5 * scale, $"worst difference {worst} at scale {scale}");
    }

    /// <summary>Managed bytes of a steady-state training iteration of a built-in LSTM: the benchmark's step (initial states given, gradients zeroed in place).</summary>
    private static long BytesPerIteration<T>(int steps, int batch, int width, bool stepByStep) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng(3);
        var layer = RecurrentLayer.Lstm<T>(width, width, rng);
        var x = Tensor.RandomNormal<T>(rng, [steps, batch, width]).RequireGrad();
        var initial = new[] { Tensor.RandomNormal<T>(rng, [batch, width]).RequireGrad(), Tensor.RandomNormal<T>(rng, [batch, width]).RequireGrad() };
        var leaves = layer.NamedParameters().Select(p => p.Value).Append(x).Concat(initial).ToArray();
        void Iteration()
        {
            using var reuse = Tape.ReuseBuffers();
            using var stepwise = stepByStep ? Compiler.StepByStep() : default;
            foreach (var leaf in leaves) leaf.Grad?.AsWritableSpan().Clear();
            layer.Forward(x, new SequenceOptions<T> { InitialStates = [new RecurrentState<T>(["h", "c"], initial)] }).Output.Sum().Backward();
        }
        for (int i = 0; i < 3; i++) Iteration();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) Iteration();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / 3;
    }

    [Theory]
    [InlineData(100, 8, 32, false)]   // W3
    [InlineData(1000, 1, 64, true)]   // W4
    public void ASteadyStateTrainingIterationAllocatesUnder3KBOnItsThread(int steps, int batch, int width, bool isDouble)
    {
        // #15's target is 8 KB as BenchmarkDotNet counts, which is every thread's allocations during the iteration (a
        // W1 iteration of 1.3 s counted 4.7 KB more than its own thread's in one run on 2026-12-07), so the iteration's
        // own share is held well below: 2.4 KB measured once a sequence kept its pass objects (6.5 KB before).
        // Stepped, each step makes its tensors and tape entries: 115 KB at W3 and 1.1 MB at W4 measured.
        long whole = isDouble ? BytesPerIteration<double>(steps, batch, width, false) : BytesPerIteration<float>(steps, batch, width, false);
        long stepped = isDouble ? BytesPerIteration<double>(steps, batch, width, true) : BytesPerIteration<float>(steps, batch, width, true);
        Assert.True(whole < 3 * 1024, $"{whole:N0} bytes per iteration as one sequence (stepped: {stepped:N0})");
        Assert.True(whole * 10 < stepped, $"{whole:N0} bytes as one sequence against {stepped:N0} stepped: expected 10x less");
    }

    [Fact]
    public void AFinalStateIsMadeWhenFirstReadAndRefusedOnceItsPassesStorageIsRecycled()
    {
        // A compiled pass makes its final state on first access (two views of the stacked states): read before the
        // reset, it is the last row of the stacks; first read after a reset under ReuseBuffers, it is refused in words,
        // as the stacks themselves are, instead of showing recycled storage.
        var layer = RecurrentLayer.Lstm<double>(3, 4, new Rng(1));
        var x = Tensor.RandomNormal<double>(new Rng(2), [5, 2, 3]).RequireGrad();
        SequenceResult<double> early, late;
        double[] lastOutput, finalH;
        using (Tape.ReuseBuffers())
        {
            early = layer.Forward(x);
            int recorded = Tape.Current.Count;
            finalH = early.FinalStates[0][0].ToArray();
            Assert.Equal(recorded + 2, Tape.Current.Count);   // h and c, rows of their stacks, recorded when first read
            lastOutput = early.Output.Select(0, 4).ToArray();
            early.Output.Sum().Backward();
            late = layer.Forward(x);
            late.Output.Sum().Backward();
        }
        Assert.Equal(lastOutput, finalH);
        Assert.Same(early.FinalStates[0], early.FinalState(0));   // made once
        var error = Assert.Throws<InvalidOperationException>(() => late.FinalStates[0][0].ToArray());
        Assert.Contains("ReuseBuffers", error.Message);
    }
}
