using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Benchmarks;

/// <summary>Which recurrence a model runs; the gate count fixes the row blocks of W_ih / W_hh (PyTorch layout).</summary>
public enum CellKind { Lstm, Gru, Rnn }

/// <summary>
/// The toolkit's own single-layer LSTM, GRU and tanh RNN (<see cref="RecurrentLayer{T}"/> over <see cref="LstmCell{T}"/>,
/// <see cref="GruCell{T}"/>, <see cref="ElmanCell{T}"/>: the cells researchers use, composed of primitives, with the
/// input projection hoisted out of the time loop), exposed with PyTorch's weight layout so the peers can copy them.
/// </summary>
internal sealed class OurRecurrentModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly string[] ParameterNames = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];
    private readonly RecurrentLayer<T> layer;

    /// <param name="asCustomCell">The LSTM written as a <see cref="CustomCell{T}"/> in the README's style instead of the built-in <see cref="LstmCell{T}"/> (same equations, same FLOPs).</param>
    public OurRecurrentModel(CellKind kind, int inputSize, int hiddenSize, Rng rng, bool asCustomCell = false)
    {
        if (asCustomCell && kind != CellKind.Lstm) throw new ArgumentException($"OurRecurrentModel: only the LSTM has a CustomCell twin, not {kind}.", nameof(asCustomCell));
        Kind = kind;
        HiddenSize = hiddenSize;
        layer = kind switch
        {
            CellKind.Lstm when asCustomCell => new RecurrentLayer<T>((i, r) => CustomLstm(i, hiddenSize, r), inputSize, rng),
            CellKind.Lstm => RecurrentLayer.Lstm<T>(inputSize, hiddenSize, rng),
            CellKind.Gru => RecurrentLayer.Gru<T>(inputSize, hiddenSize, rng),
            _ => RecurrentLayer.Rnn<T>(inputSize, hiddenSize, rng),
        };
        var p = layer.NamedParameters().ToDictionary(x => x.Key, x => x.Value);
        (WeightIh, WeightHh, BiasIh, BiasHh) = (p[ParameterNames[0]], p[ParameterNames[1]], p[ParameterNames[2]], p[ParameterNames[3]]);
    }

    public CellKind Kind { get; }
    public int HiddenSize { get; }
    public Tensor<T> WeightIh { get; }
    public Tensor<T> WeightHh { get; }
    public Tensor<T> BiasIh { get; }
    public Tensor<T> BiasHh { get; }
    public Tensor<T>[] Parameters => [WeightIh, WeightHh, BiasIh, BiasHh];

    /// <summary>The LSTM as a researcher writes it with <see cref="CustomCell{T}"/>: PyTorch's parameters and gate order, input projection hoisted.</summary>
    public static CustomCell<T> CustomLstm(int inputSize, int hidden, Rng rng) => new("lstm-custom", inputSize, hidden, ["h", "c"],
        new Dictionary<string, int[]> { ["weight_ih"] = [4 * hidden, inputSize], ["weight_hh"] = [4 * hidden, hidden], ["bias_ih"] = [4 * hidden], ["bias_hh"] = [4 * hidden] },
        (x, s, p) =>
        {
            var gates = (x + s["h"].Linear(p["weight_hh"], p["bias_hh"])).Chunk(4, -1);
            var (i, f, g, o) = (gates[0].Sigmoid(), gates[1].Sigmoid(), gates[2].Tanh(), gates[3].Sigmoid());
            var c = f * s["c"] + i * g;
            return [o * c.Tanh(), c];
        }, rng, projectInput: (x, p) => x.Linear(p["weight_ih"], p["bias_ih"]));

    public static int Gates(CellKind kind) => kind switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

    /// <summary>
    /// Runs the sequence x [T, B, I] from h0 [B, H] (and c0 [B, H] for the LSTM); returns every h_t as [T, B, H].
    /// <paramref name="checkpointEvery"/> &gt; 0 keeps only every k-th state and recomputes the rest in backward.
    /// </summary>
    public Tensor<T> Forward(Tensor<T> x, Tensor<T> h0, Tensor<T>? c0, int checkpointEvery = 0, bool compile = true) =>
        Run(layer, x, h0, c0, checkpointEvery, compile);

    /// <summary>
    /// The benchmark loss (the sum of every h_t) as a function of the four parameters given in <see cref="Parameters"/>
    /// order: the layer is rebuilt over them, so forward-mode and second-order derivatives see them as the inputs.
    /// </summary>
    public Tensor<T> Loss(Tensor<T>[] parameters, Tensor<T> x, Tensor<T> h0, Tensor<T>? c0, bool compile)
    {
        var rebuilt = layer.WithParameters(ParameterNames.Select((n, i) => new KeyValuePair<string, Tensor<T>>(n, parameters[i])));
        return Run(rebuilt, x, h0, c0, 0, compile).Sum();
    }

    private Tensor<T> Run(RecurrentLayer<T> l, Tensor<T> x, Tensor<T> h0, Tensor<T>? c0, int checkpointEvery, bool compile)
    {
        var state = Kind == CellKind.Lstm
            ? new RecurrentState<T>(["h", "c"], h0, c0 ?? throw new ArgumentNullException(nameof(c0), "OurRecurrentModel: the LSTM needs an initial cell state c0 [B, H]."))
            : new RecurrentState<T>(["h"], h0);
        return l.Forward(x, new SequenceOptions<T> { InitialStates = [state], CheckpointEvery = checkpointEvery, Compile = compile }).Output;
    }
}
