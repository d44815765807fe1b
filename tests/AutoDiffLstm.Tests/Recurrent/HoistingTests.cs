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
}
