using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training.Online;

namespace AutoDiffLstm.Tests.Training.Online;

/// <summary>A small sequence problem with a loss at every step, and its BPTT gradient as the reference for RTRL and UORO.</summary>
internal sealed class OnlineGradientCase
{
    public RecurrentCell<double> Cell { get; }
    public Tensor<double> Inputs { get; }   // [T, B, I]
    private readonly Tensor<double>[] directions; // one [B, H] direction per step

    public OnlineGradientCase(string cellName, int steps, int batch, int input, int hidden, ulong seed)
    {
        Cell = CellRegistry.Create<double>(cellName, input, hidden, new Rng(seed));
        Inputs = Tensor.RandomNormal<double>(new Rng(seed + 1), [steps, batch, input]);
        var rng = new Rng(seed + 2);
        directions = Enumerable.Range(0, steps).Select(_ => Tensor.RandomNormal<double>(rng, [batch, hidden])).ToArray();
    }

    public int Steps => Inputs.Shape[0];

    /// <summary>ℓ_t = Σ v_t * h_t + ½ Σ h_t²: linear and curved parts, so no gradient is trivially zero.</summary>
    public Tensor<double> LossAt(int t, Tensor<double> h) => (h * directions[t]).Sum() + h.Square().Sum() * 0.5;

    /// <summary>d(Σ_t ℓ_t)/dθ by backpropagation through time, flattened in the cell's parameter order.</summary>
    public double[] BpttGradient()
    {
        ZeroGrads();
        Tape.Current.Reset();
        var state = Cell.InitialState(Inputs.Shape[1]);
        Tensor<double>? total = null;
        for (int t = 0; t < Steps; t++)
        {
            state = Cell.Next(Inputs.Select(0, t), state);
            var l = LossAt(t, Cell.Output(state));
            total = total is null ? l : total + l;
        }
        total!.Backward();
        var g = FlatGrads();
        ZeroGrads();
        return g;
    }

    /// <summary>The online method's accumulated gradient over the whole sequence, flattened.</summary>
    public double[] OnlineGradient(OnlineGradient<double> method)
    {
        ZeroGrads();
        for (int t = 0; t < Steps; t++)
        {
            int step = t;
            method.Step(Inputs.Select(0, t), h => LossAt(step, h));
        }
        var g = FlatGrads();
        ZeroGrads();
        return g;
    }

    private void ZeroGrads()
    {
        foreach (var p in Cell.NamedParameters()) p.Value.ZeroGrad();
    }

    private double[] FlatGrads() =>
        Cell.NamedParameters().SelectMany(p => p.Value.Grad?.ToArray() ?? new double[p.Value.Size]).ToArray();
}
