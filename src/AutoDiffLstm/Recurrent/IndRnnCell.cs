using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The independently recurrent neural network (Li, Li, Cook, Zhu and Gao 2018, "Independently recurrent neural network
/// (IndRNN)", Eq. 2): each unit sees only its own past, through one recurrent weight per unit:
/// <code>
/// h_t = relu(W x_t + u * h_{t-1} + b)
/// </code>
/// (u * h elementwise). A unit's gradient through time is a product of its own u and ReLU slopes, so |u| bounds its
/// growth or decay. Parameters: weight_ih [H, I], weight_hh [H] (the vector u), bias_ih [H]. State: (h).
/// </summary>
public sealed class IndRnnCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, weightHh, biasIh;

    /// <summary>
    /// weight_ih and bias_ih uniform in [-1/sqrt(H), 1/sqrt(H)]; u uniform in [0, 1], so that every unit starts between
    /// forgetting at once and keeping its state, and none grows (Li et al. bound |u| to keep gradients in range).
    /// </summary>
    public IndRnnCell(int inputSize, int hiddenSize, Rng rng)
        : this(inputSize, hiddenSize, Initial(inputSize, hiddenSize, rng)) { }

    private IndRnnCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("indrnn", inputSize, hiddenSize, ["h"], parameters)
    {
        (weightIh, weightHh, biasIh) = (parameters["weight_ih"], parameters["weight_hh"], parameters["bias_ih"]);
    }

    private static CellParameters<T> Initial(int inputSize, int hiddenSize, Rng rng)
    {
        var p = DefaultInit.Parameters<T>(rng, hiddenSize, [("weight_ih", [hiddenSize, inputSize]), ("weight_hh", [hiddenSize]), ("bias_ih", [hiddenSize])]);
        var u = p["weight_hh"].AsWritableSpan();
        for (int j = 0; j < u.Length; j++) u[j] = T.CreateChecked(rng.NextDouble());
        return p;
    }

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W x + b ([N, H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state) =>
        new(StateNames, (projectedInput + weightHh * state[0]).Relu());

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new IndRnnCell<T>(InputSize, HiddenSize, parameters);
}
