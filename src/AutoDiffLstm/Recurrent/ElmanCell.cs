using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>The nonlinearity of an <see cref="ElmanCell{T}"/> (PyTorch's nn.RNN nonlinearity='tanh' or 'relu').</summary>
public enum ElmanActivation
{
    /// <summary>h' = tanh(...).</summary>
    Tanh,
    /// <summary>h' = max(0, ...).</summary>
    Relu,
}

/// <summary>
/// Elman's simple recurrent network (Elman 1990, "Finding structure in time"), as PyTorch's nn.RNN:
/// <c>h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)</c> with act = tanh or ReLU.
/// Parameters: weight_ih [H, I], weight_hh [H, H], bias_ih [H], bias_hh [H]. State: (h).
/// </summary>
public sealed class ElmanCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, weightHh, biasIh, biasHh;

    /// <summary>A cell with PyTorch's default initialisation (see <see cref="DefaultInit"/>).</summary>
    public ElmanCell(int inputSize, int hiddenSize, Rng rng, ElmanActivation activation = ElmanActivation.Tanh)
        : this(inputSize, hiddenSize, activation, DefaultInit.Parameters<T>(rng, hiddenSize, Layout(inputSize, hiddenSize))) { }

    private ElmanCell(int inputSize, int hiddenSize, ElmanActivation activation, CellParameters<T> parameters)
        : base(activation == ElmanActivation.Tanh ? "rnn_tanh" : "rnn_relu", inputSize, hiddenSize, ["h"], parameters)
    {
        Activation = activation;
        (weightIh, weightHh, biasIh, biasHh) = (parameters["weight_ih"], parameters["weight_hh"], parameters["bias_ih"], parameters["bias_hh"]);
    }

    /// <summary>
    /// IRNN (Le, Jaitly and Hinton 2015, "A simple way to initialize recurrent networks of rectified linear units"):
    /// a ReLU cell whose recurrent weights start as the identity and whose biases start at zero, so that with no input
    /// the state is carried unchanged. The input weights keep the default uniform draw (the paper used a small Gaussian).
    /// </summary>
    public static ElmanCell<T> Irnn(int inputSize, int hiddenSize, Rng rng)
    {
        var cell = new ElmanCell<T>(inputSize, hiddenSize, rng, ElmanActivation.Relu);
        DefaultInit.Identity(cell.weightHh);
        DefaultInit.Fill(cell.biasIh, 0, hiddenSize, 0);
        DefaultInit.Fill(cell.biasHh, 0, hiddenSize, 0);
        return cell;
    }

    /// <summary>tanh or ReLU.</summary>
    public ElmanActivation Activation { get; }

    private static IEnumerable<(string, int[])> Layout(int i, int h) =>
        [("weight_ih", [h, i]), ("weight_hh", [h, h]), ("bias_ih", [h]), ("bias_hh", [h])];

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih.</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var pre = projectedInput + state[0].Linear(weightHh, biasHh);
        return new RecurrentState<T>(StateNames, Activation == ElmanActivation.Tanh ? pre.Tanh() : pre.Relu());
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new ElmanCell<T>(InputSize, HiddenSize, Activation, parameters);
}
