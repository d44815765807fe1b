using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The LSTM of PyTorch's nn.LSTM (Hochreiter and Schmidhuber 1997, with the forget gate of Gers, Schmidhuber and
/// Cummins 2000; no peepholes), gates in PyTorch's order i, f, g, o:
/// <code>
/// [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      (each [B, H])
/// i = sigmoid(i), f = sigmoid(f), g = tanh(g), o = sigmoid(o)
/// c_t = f * c_{t-1} + i * g
/// h_t = o * tanh(c_t)
/// </code>
/// Parameters: weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]. State: (h, c).
/// This is Greff et al.'s "NP" variant; <see cref="LstmVariantCell{T}"/> has the others.
/// </summary>
public sealed class LstmCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, weightHh, biasIh, biasHh;

    /// <summary>
    /// A cell with PyTorch's default initialisation. With <paramref name="forgetBias"/> (e.g. 1.0, as recommended by
    /// Jozefowicz, Zaremba and Sutskever 2015), the forget slice [H, 2H) of bias_ih is set to that value and the same
    /// slice of bias_hh to zero, so the effective forget bias b_ih + b_hh is exactly <paramref name="forgetBias"/>.
    /// </summary>
    public LstmCell(int inputSize, int hiddenSize, Rng rng, double? forgetBias = null)
        : this(inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize, Layout(inputSize, hiddenSize)))
    {
        if (forgetBias is double value)
        {
            DefaultInit.Fill(biasIh, hiddenSize, hiddenSize, value);
            DefaultInit.Fill(biasHh, hiddenSize, hiddenSize, 0);
        }
    }

    private LstmCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("lstm", inputSize, hiddenSize, ["h", "c"], parameters)
    {
        (weightIh, weightHh, biasIh, biasHh) = (parameters["weight_ih"], parameters["weight_hh"], parameters["bias_ih"], parameters["bias_hh"]);
    }

    private static IEnumerable<(string, int[])> Layout(int i, int h) =>
        [("weight_ih", [4 * h, i]), ("weight_hh", [4 * h, h]), ("bias_ih", [4 * h]), ("bias_hh", [4 * h])];

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih, all four gates at once ([N, 4H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var (h, c) = (state[0], state[1]);
        var gates = (projectedInput + h.Linear(weightHh, biasHh)).Chunk(4, -1);
        var (i, f, g, o) = (gates[0].Sigmoid(), gates[1].Sigmoid(), gates[2].Tanh(), gates[3].Sigmoid());
        GateMonitor.Observe("input", i);
        GateMonitor.Observe("forget", f);
        GateMonitor.Observe("candidate", g, GateRange.Tanh);
        GateMonitor.Observe("output", o);
        var cNext = f * c + i * g;
        return new RecurrentState<T>(StateNames, o * cNext.Tanh(), cNext);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new LstmCell<T>(InputSize, HiddenSize, parameters);
}
