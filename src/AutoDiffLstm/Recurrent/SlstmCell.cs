using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// sLSTM, the scalar-memory LSTM of xLSTM (Beck, Pöppel, Spanring, Auer, Prudnikova, Kopp, Klambauer, Brandstetter and
/// Hochreiter 2024, Section 2.2): exponential input and forget gates, a normaliser state n and a stabiliser state m that
/// keeps the exponentials in range without changing h:
/// <code>
/// [z~ i~ f~ o~] = W_ih x_t + b_ih + W_hh h_{t-1}             (each [B, H])
/// m_t  = max(f~ + m_{t-1}, i~)                               (log f_t = f~: exponential forget gate)
/// i'_t = exp(i~ - m_t),  f'_t = exp(f~ + m_{t-1} - m_t)      (stabilised gates)
/// c_t  = f'_t c_{t-1} + i'_t tanh(z~)
/// n_t  = f'_t n_{t-1} + i'_t
/// h_t  = sigmoid(o~) * c_t / n_t
/// </code>
/// One head with a full recurrent matrix (the paper's block-diagonal heads are the special case of a block-diagonal
/// W_hh). At a tie in the max the gradient goes to f~ + m_{t-1}. Parameters: weight_ih [4H, I], weight_hh [4H, H],
/// bias_ih [4H], rows z, i, f, o. State: (h, c, n, m); the zero state is valid (n_t &gt;= i'_t &gt; 0 after one step).
/// </summary>
public sealed class SlstmCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, weightHh, biasIh;

    /// <summary>Weights and biases uniform in [-1/sqrt(H), 1/sqrt(H)] (PyTorch's nn.LSTM default).</summary>
    public SlstmCell(int inputSize, int hiddenSize, Rng rng)
        : this(inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize,
            [("weight_ih", [4 * hiddenSize, inputSize]), ("weight_hh", [4 * hiddenSize, hiddenSize]), ("bias_ih", [4 * hiddenSize])])) { }

    private SlstmCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("slstm", inputSize, hiddenSize, ["h", "c", "n", "m"], parameters)
    {
        (weightIh, weightHh, biasIh) = (parameters["weight_ih"], parameters["weight_hh"], parameters["bias_ih"]);
    }

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih for z, i, f and o at once ([N, 4H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var (h, c, n, m) = (state[0], state[1], state[2], state[3]);
        var g = (projectedInput + h.Linear(weightHh)).Chunk(4, -1);
        var logForget = g[2] + m;
        var mNext = Tensor.Maximum(logForget, g[1]);
        var input = (g[1] - mNext).Exp();
        var forget = (logForget - mNext).Exp();
        GateMonitor.Observe("forget", forget);
        var output = g[3].Sigmoid();
        GateMonitor.Observe("output", output);
        var cNext = forget * c + input * g[0].Tanh();
        var nNext = forget * n + input;
        return new RecurrentState<T>(StateNames, output * (cNext / nNext), cNext, nNext, mNext);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new SlstmCell<T>(InputSize, HiddenSize, parameters);
}
