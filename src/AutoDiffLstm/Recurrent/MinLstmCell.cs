using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// minLSTM (Feng, Tung, Ahmed, Bengio and Hajimirsadeghi 2024, "Were RNNs all we needed?", Section 3.2): an LSTM without
/// output gate and without state in its gates, whose forget and input gates are normalised to sum to one (so the state
/// stays on the scale of the candidates, independent of time):
/// <code>
/// f_t  = sigmoid(W_f x_t + b_f),   i_t = sigmoid(W_i x_t + b_i),   h~_t = W_h x_t + b_h
/// f'_t = f_t / (f_t + i_t),        i'_t = i_t / (f_t + i_t)
/// h_t  = f'_t * h_{t-1} + i'_t * h~_t
/// </code>
/// It trains by one scan over time (a_t = f'_t, b_t = i'_t h~_t; see <see cref="LinearRecurrentCell{T}"/>) and steps like any
/// cell. Plain (not log-space) form. Parameters: weight_ih [3H, I] and bias_ih [3H], rows f, i, h~. State: (h).
/// </summary>
public sealed class MinLstmCell<T> : LinearRecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, biasIh;

    /// <summary>A cell with weights and biases uniform in [-1/sqrt(H), 1/sqrt(H)] (PyTorch's nn.LSTM default).</summary>
    public MinLstmCell(int inputSize, int hiddenSize, Rng rng)
        : this(inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize, [("weight_ih", [3 * hiddenSize, inputSize]), ("bias_ih", [3 * hiddenSize])])) { }

    private MinLstmCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("minlstm", inputSize, hiddenSize, parameters)
    {
        (weightIh, biasIh) = (parameters["weight_ih"], parameters["bias_ih"]);
    }

    /// <summary>W_ih x + b_ih for f, i and h~ at once ([N, 3H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override (Tensor<T> A, Tensor<T> B) Coefficients(Tensor<T> projected)
    {
        var parts = projected.Chunk(3, -1);
        var (forget, input) = (parts[0].Sigmoid(), parts[1].Sigmoid());
        GateMonitor.Observe("forget", forget);
        GateMonitor.Observe("input", input);
        var total = forget + input;
        return (forget / total, input / total * parts[2]);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new MinLstmCell<T>(InputSize, HiddenSize, parameters);
}
