using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Diagnostics;

/// <summary>One gate over time: its mean activation and the fraction of saturated units at every step.</summary>
/// <param name="Gate">The name the cell reported (e.g. "forget").</param>
/// <param name="Range">Sigmoid or tanh, which defines saturation.</param>
/// <param name="Mean">Mean activation over batch and units, per step.</param>
/// <param name="Saturated">Fraction of batch x units saturated, per step (sigmoid: &lt; 0.05 or &gt; 0.95; tanh: |a| &gt; 0.95).</param>
public sealed record GateTrace(string Gate, GateRange Range, double[] Mean, double[] Saturated);

/// <summary>
/// Gate statistics over time for any cell that reports its gates through <see cref="GateMonitor"/>: a forget gate
/// near 1 keeps the cell state (and its gradient) alive; saturated gates pass almost no gradient through their sigmoid.
/// The built-in cells report, for the gates they have: LSTM and its Greff variants "input", "forget", "candidate"
/// (tanh; not for NIAF, whose block input has no activation) and "output"; GRU "reset", "update" and "candidate" (tanh).
/// </summary>
public static class GateStatistics
{
    /// <summary>Unrolls <paramref name="cell"/> over <paramref name="inputs"/> ([T, B, I]) without recording and collects every reported gate.</summary>
    public static IReadOnlyList<GateTrace> Measure<T>(RecurrentCell<T> cell, Tensor<T> inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (inputs.Rank != 3 || inputs.Shape[2] != cell.InputSize)
            throw new ArgumentException($"GateStatistics: inputs must have shape [T, B, {cell.InputSize}] for {cell}, got {inputs.ShapeText}.");
        int steps = inputs.Shape[0];
        var traces = new Dictionary<string, (GateRange Range, double[] Mean, double[] Saturated)>();
        var order = new List<string>();
        int step = 0;
        using var _ = Autograd.NoGrad();
        using var __ = GateMonitor.Listen((gate, activation, range) =>
        {
            if (!traces.TryGetValue(gate, out var trace))
            {
                traces[gate] = trace = (range, new double[steps], new double[steps]);
                order.Add(gate);
            }
            var (mean, saturated) = Summarise((Tensor<T>)activation, range);
            trace.Mean[step] = mean;
            trace.Saturated[step] = saturated;
        });
        var state = cell.InitialState(inputs.Shape[1]);
        for (step = 0; step < steps; step++) state = cell.Next(inputs.Select(0, step), state);
        return order.Select(g => new GateTrace(g, traces[g].Range, traces[g].Mean, traces[g].Saturated)).ToArray();
    }

    private static (double Mean, double Saturated) Summarise<T>(Tensor<T> a, GateRange range) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        int saturated = 0;
        foreach (var v in a.AsSpan())
        {
            double d = double.CreateChecked(v);
            sum += d;
            if (range == GateRange.Sigmoid ? d < 0.05 || d > 0.95 : Math.Abs(d) > 0.95) saturated++;
        }
        return a.Size == 0 ? (0, 0) : (sum / a.Size, (double)saturated / a.Size);
    }
}
