using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>Factories for the common stacks, with PyTorch's constructor arguments.</summary>
public static class RecurrentLayer
{
    /// <summary>nn.RNN: Elman cells with tanh or ReLU.</summary>
    public static RecurrentLayer<T> Rnn<T>(int inputSize, int hiddenSize, Rng rng, int numLayers = 1, bool bidirectional = false,
        ElmanActivation nonlinearity = ElmanActivation.Tanh, bool residual = false) where T : unmanaged, IFloatingPointIeee754<T> =>
        new((i, r) => new ElmanCell<T>(i, hiddenSize, r, nonlinearity), inputSize, rng, numLayers, bidirectional, residual);

    /// <summary>nn.LSTM, optionally with a forget-gate bias (see <see cref="LstmCell{T}(int, int, Rng, double?)"/>).</summary>
    public static RecurrentLayer<T> Lstm<T>(int inputSize, int hiddenSize, Rng rng, int numLayers = 1, bool bidirectional = false,
        double? forgetBias = null, bool residual = false) where T : unmanaged, IFloatingPointIeee754<T> =>
        new((i, r) => new LstmCell<T>(i, hiddenSize, r, forgetBias), inputSize, rng, numLayers, bidirectional, residual);

    /// <summary>nn.GRU.</summary>
    public static RecurrentLayer<T> Gru<T>(int inputSize, int hiddenSize, Rng rng, int numLayers = 1, bool bidirectional = false,
        bool residual = false) where T : unmanaged, IFloatingPointIeee754<T> =>
        new((i, r) => new GruCell<T>(i, hiddenSize, r), inputSize, rng, numLayers, bidirectional, residual);

    /// <summary>A stack of one of Greff et al.'s LSTM variants.</summary>
    public static RecurrentLayer<T> LstmVariant<T>(LstmVariant variant, int inputSize, int hiddenSize, Rng rng, int numLayers = 1,
        bool bidirectional = false, double? forgetBias = null, bool residual = false) where T : unmanaged, IFloatingPointIeee754<T> =>
        new((i, r) => new LstmVariantCell<T>(variant, i, hiddenSize, r, forgetBias), inputSize, rng, numLayers, bidirectional, residual);
}
