using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>Everything one unrolled pass of a registry cell computes, for tests that compare two ways of running it bit for bit.</summary>
internal static class PassValues
{
    /// <summary>
    /// The outputs, the final state and the gradient of every leaf (parameters, x, the initial state) of a pass over
    /// random inputs [steps, batch, input] from a random initial state, under a loss that weights every output and
    /// squares the final state (so every result's gradient is used).
    /// </summary>
    public static double[][] Of(string name, int input, int hidden, int steps, int batch, bool reverse = false, int detachEvery = 0, int checkpointEvery = 0) =>
        Of(CellRegistry.Create<double>(name, input, hidden, new Rng(1)), steps, batch, reverse, detachEvery, checkpointEvery);

    /// <summary>The same for a given cell (one whose compiled step has already run passes, say).</summary>
    public static double[][] Of(RecurrentCell<double> cell, int steps, int batch, bool reverse = false, int detachEvery = 0, int checkpointEvery = 0)
    {
        Tape.Current.Reset();
        foreach (var (_, parameter) in cell.NamedParameters()) parameter.ZeroGrad();   // a cell used before holds its last pass's gradients
        int input = cell.InputSize;
        var x = Tensor.RandomNormal<double>(new Rng(2), [steps, batch, input]).RequireGrad();
        var rng = new Rng(3);
        var initial = cell.InitialState(batch).Tensors.Select(t => Tensor.RandomNormal<double>(rng, [.. t.Shape], std: 0.5).RequireGrad()).ToArray();
        var leaves = cell.NamedParameters().Select(p => p.Value).Append(x).Concat(initial).ToArray();
        var result = Unroll.Run(cell, x, new UnrollOptions<double>
        {
            ParallelForm = false, Reverse = reverse, DetachEvery = detachEvery, CheckpointEvery = checkpointEvery, InitialState = new RecurrentState<double>(cell.StateNames, initial),
        });
        var weights = Tensor.RandomNormal<double>(new Rng(9), [.. result.Output.Shape]);
        var loss = (result.Output * weights).Sum() + result.FinalState.Tensors.Select(s => s.Square().Sum()).Aggregate((a, b) => a + b);
        loss.Backward();
        return [result.Output.ToArray(), .. result.FinalState.Tensors.Select(s => s.ToArray()), .. leaves.Select(l => l.Grad?.ToArray() ?? [])];
    }
}
