using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The gated recurrent unit (Cho et al. 2014) exactly as PyTorch's nn.GRU, gates in the order r, z, n:
/// <code>
/// r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
/// z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
/// n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
/// h_t = (1 - z) * n + z * h_{t-1}
/// </code>
/// (the reset gate multiplies the recurrent term after its bias, as in PyTorch and cuDNN; Cho et al. applied it to
/// h_{t-1} before the product). Parameters: weight_ih [3H, I], weight_hh [3H, H], bias_ih [3H], bias_hh [3H]. State: (h).
/// </summary>
public sealed class GruCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, weightHh, biasIh, biasHh;

    /// <summary>A cell with PyTorch's default initialisation.</summary>
    public GruCell(int inputSize, int hiddenSize, Rng rng)
        : this(inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize, Layout(inputSize, hiddenSize))) { }

    private GruCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("gru", inputSize, hiddenSize, ["h"], parameters)
    {
        (weightIh, weightHh, biasIh, biasHh) = (parameters["weight_ih"], parameters["weight_hh"], parameters["bias_ih"], parameters["bias_hh"]);
    }

    private static IEnumerable<(string, int[])> Layout(int i, int h) =>
        [("weight_ih", [3 * h, i]), ("weight_hh", [3 * h, h]), ("bias_ih", [3 * h]), ("bias_hh", [3 * h])];

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih for r, z and n at once ([N, 3H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var h = state[0];
        var x = projectedInput.Chunk(3, -1);
        var r = h.Linear(weightHh, biasHh).Chunk(3, -1);
        var reset = (x[0] + r[0]).Sigmoid();
        var update = (x[1] + r[1]).Sigmoid();
        var candidate = (x[2] + reset * r[2]).Tanh();
        GateMonitor.Observe("reset", reset);
        GateMonitor.Observe("update", update);
        GateMonitor.Observe("candidate", candidate, GateRange.Tanh);
        // (1 - z) * n + z * h rewritten as n + z * (h - n): the same value with one operation less per step.
        return new RecurrentState<T>(StateNames, candidate + update * (h - candidate));
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new GruCell<T>(InputSize, HiddenSize, parameters);
}
