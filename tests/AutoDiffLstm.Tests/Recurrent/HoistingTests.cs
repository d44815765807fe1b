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
}
