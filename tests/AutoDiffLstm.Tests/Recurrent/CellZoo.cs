using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>One kind of cell under test: how to make it, and where its forget-gate slice is (for forget-bias cases).</summary>
public sealed record CellKind(string Name, Func<int, int, Rng, RecurrentCell<double>> Make, int ForgetSlot = -1, bool PiecewiseLinear = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every built-in cell of the library's <see cref="CellRegistry"/> plus the custom minimal gated unit, for tests that must
/// cover them all: a cell added to the registry joins every zoo test (equations, gradients, long horizons, naming...).
/// </summary>
public static class CellZoo
{
    /// <summary>Cells whose activation is piecewise linear (ReLU): their tests use smaller weights, since nothing saturates.</summary>
    private static readonly HashSet<string> PiecewiseLinear = ["rnn_relu", "irnn", "indrnn"];

    public static IReadOnlyList<CellKind> All { get; } = Build();

    public static CellKind Get(string name) => All.Single(k => k.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var kind in All) data.Add(kind.Name);
        return data;
    }

    /// <summary>
    /// A random value for the state tensor <paramref name="stateName"/>: uniform in [lo, hi], except sLSTM's and mLSTM's
    /// normaliser n, which divides the cell state and is positive in every reachable state, so it is kept in [0.5, 1.5].
    /// </summary>
    public static Tensor<double> RandomState(string stateName, int[] shape, Rng rng, double lo, double hi) =>
        stateName == "n" ? Tensor.RandomUniform<double>(rng, shape, 0.5, 1.5) : Tensor.RandomUniform<double>(rng, shape, lo, hi);

    /// <summary>
    /// The zoo name of a registry entry: the cells' Kind (rnn_tanh, lstm_cifg) where one entry alone has it, else the
    /// registry name with '_' for '-' (irnn, whose cells are rnn_relu).
    /// </summary>
    public static string ZooName(CellInfo info) =>
        CellRegistry.All.Count(i => i.Kind == info.Kind) == 1 ? info.Kind : info.Name.Replace('-', '_');

    /// <summary>Where the forget gate's rows sit in bias_ih, for the forget-bias cases (-1: none).</summary>
    private static int ForgetSlot(string zooName) => zooName switch
    {
        "lstm" => 1,
        "janet" => 0,
        _ when zooName.StartsWith("lstm_", StringComparison.Ordinal) =>
            LstmVariant.Greff.Single(v => "lstm_" + v.Name.ToLowerInvariant() == zooName).GateLayout.IndexOf('f'),
        _ => -1,
    };

    private static List<CellKind> Build()
    {
        var kinds = new List<CellKind>();
        foreach (var info in CellRegistry.All.Where(i => i.BuiltIn))
        {
            string name = ZooName(info);
            kinds.Add(new(name, (i, h, r) => CellRegistry.Create<double>(info.Name, i, h, r), ForgetSlot(name), PiecewiseLinear.Contains(name)));
        }
        kinds.Add(new("mgu", Mgu));
        return kinds;
    }

    /// <summary>
    /// The minimal gated unit (Zhou, Wu, Zhang and Zhou 2016) as a custom cell, the README example:
    /// f = sigmoid(W_f x + b_f + U_f h), n = tanh(W_n x + b_n + U_n (f * h)), h' = (1 - f) * h + f * n.
    /// </summary>
    public static RecurrentCell<double> Mgu(int inputSize, int hiddenSize, Rng rng) =>
        new CustomCell<double>("mgu", inputSize, hiddenSize, stateNames: ["h"],
            parameters: new Dictionary<string, int[]>
            {
                ["weight_ih"] = [2 * hiddenSize, inputSize], ["bias_ih"] = [2 * hiddenSize],
                ["weight_hf"] = [hiddenSize, hiddenSize], ["weight_hn"] = [hiddenSize, hiddenSize],
            },
            projectInput: (x, p) => x.Linear(p["weight_ih"], p["bias_ih"]),
            step: (x, s, p) =>
            {
                var xs = x.Chunk(2);
                var h = s["h"];
                var f = (xs[0] + h.Linear(p["weight_hf"])).Sigmoid();
                var n = (xs[1] + (f * h).Linear(p["weight_hn"])).Tanh();
                return [h + f * (n - h)];
            },
            rng: rng);
}
