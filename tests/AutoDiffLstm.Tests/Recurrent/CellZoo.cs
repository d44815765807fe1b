using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>One kind of cell under test: how to make it, and where its forget-gate slice is (for forget-bias cases).</summary>
public sealed record CellKind(string Name, Func<int, int, Rng, RecurrentCell<double>> Make, int ForgetSlot = -1, bool PiecewiseLinear = false)
{
    public override string ToString() => Name;
}

/// <summary>Every built-in cell plus the custom minimal gated unit, for tests that must cover them all.</summary>
public static class CellZoo
{
    public static IReadOnlyList<CellKind> All { get; } = Build();

    public static CellKind Get(string name) => All.Single(k => k.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var kind in All) data.Add(kind.Name);
        return data;
    }

    private static List<CellKind> Build()
    {
        var kinds = new List<CellKind>
        {
            new("rnn_tanh", (i, h, r) => new ElmanCell<double>(i, h, r)),
            new("rnn_relu", (i, h, r) => new ElmanCell<double>(i, h, r, ElmanActivation.Relu), PiecewiseLinear: true),
            new("irnn", (i, h, r) => ElmanCell<double>.Irnn(i, h, r), PiecewiseLinear: true),
            new("lstm", (i, h, r) => new LstmCell<double>(i, h, r), ForgetSlot: 1),
            new("gru", (i, h, r) => new GruCell<double>(i, h, r)),
            new("mgu", Mgu),
        };
        foreach (var v in LstmVariant.Greff)
            kinds.Add(new("lstm_" + v.Name.ToLowerInvariant(), (i, h, r) => new LstmVariantCell<double>(v, i, h, r), ForgetSlot: v.GateLayout.IndexOf('f')));
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
