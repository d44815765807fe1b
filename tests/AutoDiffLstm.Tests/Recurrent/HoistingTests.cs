using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>Hoisting the input projection out of the time loop changes the schedule, not the values or the gradients.</summary>
public class HoistingTests
{
    public static TheoryData<string> Kinds() => CellZoo.Names();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void HoistedAndPerStepProjectionsGiveTheSameOutputsAndGradients(string kindName)
    {
        var kind = CellZoo.Get(kindName);
        var layer = new RecurrentLayer<double>((i, r) => kind.Make(i, 3, r), 2, new Rng(1), numLayers: 2, bidirectional: true, residual: true);
        var x = Tensor.RandomNormal<double>(new Rng(2), [6, 3, 2]);
        var weights = Tensor.RandomNormal<double>(new Rng(3), [6, 3, 6]);

        (double[] Output, double[][] Grads, int Linears) Run(bool hoist)
        {
            Tape.Current.Reset();
            foreach (var p in layer.NamedParameters()) p.Value.ZeroGrad();
            var leaf = x.Clone().RequireGrad();
            var result = layer.Forward(leaf, new SequenceOptions<double> { Lengths = [6, 4, 1], HoistInputProjection = hoist });
            int linears = Tape.Current.OperationNames().Count(n => n == "Linear");
            (weights * result.Output).Sum().Backward();
            return (result.Output.ToArray(), layer.NamedParameters().Select(p => p.Value.Grad!.ToArray()).Append(leaf.Grad!.ToArray()).ToArray(), linears);
        }

        var hoisted = Run(true);
        var perStep = Run(false);
        Assert.Equal(perStep.Output.Length, hoisted.Output.Length);
        for (int i = 0; i < hoisted.Output.Length; i++) Assert.Equal(perStep.Output[i], hoisted.Output[i], 12);
        for (int k = 0; k < hoisted.Grads.Length; k++)
            for (int i = 0; i < hoisted.Grads[k].Length; i++) Assert.Equal(perStep.Grads[k][i], hoisted.Grads[k][i], 11);
        // The hoisted schedule really has one input product per (layer, direction) instead of one per step.
        Assert.True(hoisted.Linears < perStep.Linears, $"hoisted {hoisted.Linears} Linear ops, per step {perStep.Linears}");
        Assert.Equal(4 * 6 - 4, perStep.Linears - hoisted.Linears);
    }

    [Fact]
    public void UnderNoGradTheHoistedProjectionGoesBackToThePoolAndTheOutputsStay()
    {
        var layer = RecurrentLayer.Lstm<double>(16, 16, new Rng(4));
        var x = Tensor.RandomNormal<double>(new Rng(5), [50, 4, 16]);
        Tensor<double> recorded = layer.Forward(x).Output.Detach();
        Tape.Current.Reset();
        Tape.ClearBufferPool();
        Tensor<double> first;
        using (Autograd.NoGrad()) first = layer.Forward(x).Output;
        long projectionBytes = 50L * 4 * (4 * 16) * sizeof(double);
        Assert.True(BufferPool<double>.RetainedBytes >= projectionBytes,
            $"the pool holds {BufferPool<double>.RetainedBytes:N0} bytes after a forward under NoGrad; its projection took {projectionBytes:N0}");
        using (Autograd.NoGrad()) layer.Forward(x); // rents it again
        Assert.False(first.IsRecycled);
        Assert.Equal(recorded.ToArray(), first.ToArray());
        Assert.False(x.IsRecycled);
    }

    [Fact]
    public void AProjectionThatReturnsItsInputLeavesTheInputAlone()
    {
        // A custom cell whose projection is the identity: its "projection" is the caller's own tensor.
        var cell = new CustomCell<double>("identity-in", 3, 3, ["h"], new Dictionary<string, int[]> { ["w"] = [3, 3] },
            (xt, s, p) => [(xt + s["h"].Linear(p["w"])).Tanh()], new Rng(6), projectInput: (xs, p) => xs);
        var layer = new RecurrentLayer<double>([[cell]]);
        Tensor<double> x;
        using (Autograd.NoGrad()) x = Tensor.RandomNormal<double>(new Rng(7), [5, 2, 3]) * 1.0; // storage the engine rented
        var before = x.ToArray();
        using (Autograd.NoGrad()) layer.Forward(x);
        Assert.False(x.IsRecycled);
        Assert.Equal(before, x.ToArray());
    }

    /// <summary>
    /// Under NoGrad each step's inner values (its slice of the projection, the recurrent product) go back to the pool
    /// once the step has run; every step's state and output stay readable and equal to the recorded pass's.
    /// </summary>
    [Fact]
    public void UnderNoGradEachStepsInnerValuesGoBackAndEveryStateStays()
    {
        const int steps = 50, batch = 4, hidden = 16;
        var layer = RecurrentLayer.Lstm<double>(hidden, hidden, new Rng(8));
        var x = Tensor.RandomNormal<double>(new Rng(9), [steps, batch, hidden]);
        var recorded = layer.Forward(x);
        var expected = recorded.Steps(0).Select(s => s.Tensors.Select(t => t.ToArray()).ToArray()).ToArray();
        Tape.Current.Reset();
        SequenceResult<double> inference;
        using (Autograd.NoGrad()) layer.Forward(x); // warms the pool
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (Autograd.NoGrad()) inference = layer.Forward(x);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Kept, a step's slice of the projection and its recurrent product are two [B, 4H] arrays: 4 KB a step here.
        long keptInnerBytes = steps * 2L * batch * 4 * hidden * sizeof(double);
        Assert.True(allocated < keptInnerBytes, $"an inference pass allocated {allocated:N0} bytes; its steps' inner values alone would take {keptInnerBytes:N0}");
        using (Autograd.NoGrad()) layer.Forward(x); // rents the given-back arrays again
        for (int t = 0; t < steps; t++)
            for (int k = 0; k < 2; k++)
            {
                Assert.False(inference.Steps(0)[t][k].IsRecycled);
                Assert.Equal(expected[t][k], inference.Steps(0)[t][k].ToArray());
            }
    }

    [Fact]
    public void ACellThatKeepsItsInputAsStateKeepsItUnderNoGrad()
    {
        // The state is the projected input itself: the step's slice must not go back to the pool.
        var cell = new CustomCell<double>("carry-input", 3, 3, ["h"], new Dictionary<string, int[]> { ["w"] = [3, 3] },
            (xt, s, p) => [xt], new Rng(10), projectInput: (xs, p) => xs.Linear(p["w"]));
        var layer = new RecurrentLayer<double>([[cell]]);
        var x = Tensor.RandomNormal<double>(new Rng(11), [6, 2, 3]);
        var expected = layer.Forward(x).Steps(0).Select(s => s[0].ToArray()).ToArray();
        Tape.Current.Reset();
        SequenceResult<double> inference;
        using (Autograd.NoGrad()) inference = layer.Forward(x);
        using (Autograd.NoGrad()) layer.Forward(x);
        for (int t = 0; t < 6; t++) Assert.Equal(expected[t], inference.Steps(0)[t][0].ToArray());
    }

    [Fact]
    public void AGateListenerKeepsTheGatesItIsShownUnderNoGrad()
    {
        var layer = RecurrentLayer.Lstm<double>(4, 4, new Rng(12));
        var x = Tensor.RandomNormal<double>(new Rng(13), [5, 2, 4]);
        var seen = new List<(Tensor<double> Gate, double[] Values)>();
        using (Autograd.NoGrad())
        using (GateMonitor.Listen((_, gate, _) => seen.Add(((Tensor<double>)gate, ((Tensor<double>)gate).ToArray()))))
            layer.Forward(x);
        using (Autograd.NoGrad()) layer.Forward(x);
        Assert.Equal(5 * 4, seen.Count);
        foreach (var (gate, values) in seen) Assert.Equal(values, gate.ToArray());
    }

    [Fact]
    public void AnInterpretedStepThatKeepsItsInputsKeepsThemUnderNoGrad()
    {
        // A step run as written is the user's code: it may keep what it is given (here, every projected input).
        var kept = new List<Tensor<double>>();
        var cell = new CustomCell<double>("keeps-inputs", 3, 3, ["h"], new Dictionary<string, int[]> { ["w"] = [3, 3] },
            (xt, s, p) => { kept.Add(xt); return [(xt + s["h"]).Tanh()]; }, new Rng(14), projectInput: (xs, p) => xs.Linear(p["w"]));
        var layer = new RecurrentLayer<double>([[cell]]);
        var x = Tensor.RandomNormal<double>(new Rng(15), [4, 2, 3]);
        using (Autograd.NoGrad()) layer.Forward(x, new SequenceOptions<double> { Compile = false });
        var values = kept.Select(t => t.ToArray()).ToArray();
        using (Autograd.NoGrad()) layer.Forward(x, new SequenceOptions<double> { Compile = false });
        for (int t = 0; t < 4; t++) Assert.Equal(values[t], kept[t].ToArray());
    }
}
