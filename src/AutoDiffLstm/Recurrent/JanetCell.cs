using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// JANET, the forget-gate-only LSTM (van der Westhuizen and Lasenby 2018, "The unreasonable effectiveness of the forget
/// gate", Eq. 2 with the shift beta of Section 3):
/// <code>
/// s_t  = W_f x_t + U_f h_{t-1} + b_f
/// c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)
/// c_t  = sigmoid(s_t) * c_{t-1} + (1 - sigmoid(s_t - beta)) * c~_t
/// h_t  = c_t
/// </code>
/// with beta = 1 (a little more is let in than is forgotten), and chrono initialisation of the forget bias (Tallec and
/// Ollivier 2018): b_f = log(U[1, T_max - 1]), b_c = 0, so units start with memory spans spread up to T_max steps.
/// Parameters: weight_ih [2H, I], weight_hh [2H, H], bias_ih [2H], rows f then c. State: (h), which is c.
/// </summary>
public sealed class JanetCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The shift beta of the input modulation.</summary>
    public const double Beta = 1.0;

    private readonly Tensor<T> weightIh, weightHh, biasIh;

    /// <summary>Weights uniform in [-1/sqrt(H), 1/sqrt(H)], chrono-initialised forget bias for spans up to <paramref name="chronoMaxSteps"/>.</summary>
    public JanetCell(int inputSize, int hiddenSize, Rng rng, int chronoMaxSteps = 100)
        : this(inputSize, hiddenSize, Initial(inputSize, hiddenSize, rng, chronoMaxSteps)) { }

    private JanetCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("janet", inputSize, hiddenSize, ["h"], parameters)
    {
        (weightIh, weightHh, biasIh) = (parameters["weight_ih"], parameters["weight_hh"], parameters["bias_ih"]);
    }

    private static CellParameters<T> Initial(int inputSize, int hiddenSize, Rng rng, int chronoMaxSteps)
    {
        if (chronoMaxSteps < 3)
            throw new ArgumentOutOfRangeException(nameof(chronoMaxSteps), $"janet: the chrono initialisation needs T_max >= 3 (b_f = log U[1, T_max - 1]), got {chronoMaxSteps}.");
        var p = DefaultInit.Parameters<T>(rng, hiddenSize,
            [("weight_ih", [2 * hiddenSize, inputSize]), ("weight_hh", [2 * hiddenSize, hiddenSize]), ("bias_ih", [2 * hiddenSize])]);
        var bias = p["bias_ih"].AsWritableSpan();
        for (int j = 0; j < hiddenSize; j++) bias[j] = T.CreateChecked(Math.Log(rng.NextDouble(1, chronoMaxSteps - 1)));
        bias[hiddenSize..].Clear();
        return p;
    }

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih for s and c~ at once ([N, 2H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var c = state[0];
        var x = projectedInput.Chunk(2, -1);
        var r = c.Linear(weightHh).Chunk(2, -1);
        var s = x[0] + r[0];
        var forget = s.Sigmoid();
        GateMonitor.Observe("forget", forget);
        var candidate = (x[1] + r[1]).Tanh();
        GateMonitor.Observe("candidate", candidate, GateRange.Tanh);
        var admit = T.One - (s - T.CreateChecked(Beta)).Sigmoid();
        return new RecurrentState<T>(StateNames, forget * c + admit * candidate);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new JanetCell<T>(InputSize, HiddenSize, parameters);
}
