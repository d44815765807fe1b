using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// minGRU (Feng, Tung, Ahmed, Bengio and Hajimirsadeghi 2024, "Were RNNs all we needed?", Section 3.1): a GRU whose
/// update gate and candidate read only the input, which makes the state linear in itself:
/// <code>
/// z_t  = sigmoid(W_z x_t + b_z)
/// h~_t = W_h x_t + b_h
/// h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t
/// </code>
/// so it trains by one scan over time (a_t = 1 - z_t, b_t = z_t h~_t; see <see cref="LinearRecurrentCell{T}"/>) and steps
/// like any cell. This is the paper's plain form; its log-space form (positive h~ through g(x), then
/// <see cref="Tensor.LogScan{T}"/>) changes the candidate's activation, so it would be another cell. Parameters:
/// weight_ih [2H, I] and bias_ih [2H], rows z then h~. State: (h).
/// </summary>
public sealed class MinGruCell<T> : LinearRecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, biasIh;

    /// <summary>A cell with weights and biases uniform in [-1/sqrt(H), 1/sqrt(H)] (PyTorch's nn.GRU default).</summary>
    public MinGruCell(int inputSize, int hiddenSize, Rng rng)
        : this(inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize, [("weight_ih", [2 * hiddenSize, inputSize]), ("bias_ih", [2 * hiddenSize])])) { }

    private MinGruCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("mingru", inputSize, hiddenSize, parameters)
    {
        (weightIh, biasIh) = (parameters["weight_ih"], parameters["bias_ih"]);
    }

    /// <summary>W_ih x + b_ih for z and h~ at once ([N, 2H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override (Tensor<T> A, Tensor<T> B) Coefficients(Tensor<T> projected)
    {
        var parts = projected.Chunk(2, -1);
        var update = parts[0].Sigmoid();
        GateMonitor.Observe("update", update);
        return (T.One - update, update * parts[1]);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new MinGruCell<T>(InputSize, HiddenSize, parameters);
}
