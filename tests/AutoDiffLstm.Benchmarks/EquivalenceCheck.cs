using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// `--check`: proves that libtorch loads (torch.ones(2, 2)) and that the three implementations being timed compute
/// the same thing. For each cell, in double, our composed model, the TorchSharp composed model and libtorch's own
/// nn.LSTM / nn.GRU / nn.RNN get identical weights and inputs; loss and every gradient (weights, input sequence,
/// initial state) must agree to 1e-9 relative to the largest magnitude.
/// </summary>
internal static class EquivalenceCheck
{
    private const double Tolerance = 1e-9;

    public static int Run()
    {
        Engines.Configure(threads: 1);
        using (var ones = torch.ones(2, 2))
            Console.WriteLine($"torch.ones(2, 2) = {ones.ToString(TorchSharp.TensorStringStyle.Numpy)}  (libtorch {torch.__version__})");

        bool ok = true;
        foreach (var kind in Enum.GetValues<CellKind>()) ok &= CheckCell(kind, steps: 7, batch: 3, input: 5, hidden: 4);
        Console.WriteLine(ok ? "check: all implementations agree" : "check: MISMATCH (see above)");
        return ok ? 0 : 1;
    }

    private static bool CheckCell(CellKind kind, int steps, int batch, int input, int hidden)
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(11);
        var ours = new OurRecurrentModel<double>(kind, input, hidden, rng);
        var x = AutoDiffLstm.Tensor.RandomNormal<double>(rng, [steps, batch, input]).RequireGrad();
        var h0 = AutoDiffLstm.Tensor.RandomNormal<double>(rng, [batch, hidden], std: 0.5).RequireGrad();
        var c0 = kind == CellKind.Lstm ? AutoDiffLstm.Tensor.RandomNormal<double>(rng, [batch, hidden], std: 0.5).RequireGrad() : null;
        var ourLoss = ours.Forward(x, h0, c0).Sum();
        ourLoss.Backward();

        // The same numbers as libtorch leaves.
        TorchTensor Leaf(AutoDiffLstm.Tensor<double> t) => torch.tensor(t.ToArray(), t.Shape.Select(d => (long)d).ToArray(), ScalarType.Float64).requires_grad_(true);
        var (tx, th0, tc0) = (Leaf(x), Leaf(h0), c0 is null ? null : Leaf(c0));
        var composed = new TorchComposedModel(kind, Leaf(ours.WeightIh), Leaf(ours.WeightHh), Leaf(ours.BiasIh), Leaf(ours.BiasHh));
        var composedLoss = composed.Forward(tx, th0, tc0).sum();
        composedLoss.backward();

        var (fx, fh0, fc0) = (Leaf(x), Leaf(h0), c0 is null ? null : Leaf(c0));
        nn.Module fused = kind switch
        {
            CellKind.Lstm => nn.LSTM(input, hidden, dtype: ScalarType.Float64),
            CellKind.Gru => nn.GRU(input, hidden, dtype: ScalarType.Float64),
            _ => nn.RNN(input, hidden, dtype: ScalarType.Float64),
        };
        string[] names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];
        using (torch.no_grad())
            for (int p = 0; p < names.Length; p++) fused.get_parameter(names[p])!.copy_(composed.Parameters[p]);
        var fusedOutput = fused switch
        {
            // libtorch's modules take the state as [layers, B, H].
            TorchSharp.Modules.LSTM lstm => lstm.call(fx, (fh0.unsqueeze(0), fc0!.unsqueeze(0))).Item1,
            TorchSharp.Modules.GRU gru => gru.call(fx, fh0.unsqueeze(0)).Item1,
            TorchSharp.Modules.RNN rnn => rnn.call(fx, fh0.unsqueeze(0)).Item1,
            _ => throw new InvalidOperationException("check: unexpected module type."),
        };
        var fusedLoss = fusedOutput.sum();
        fusedLoss.backward();

        var report = new List<(string Name, double[] Ours, double[] Composed, double[] Fused)>
        {
            ("loss", [ourLoss.ItemAsDouble()], [composedLoss.ToDouble()], [fusedLoss.ToDouble()]),
            ("dL/dx", x.Grad!.ToArray(), Grad(tx), Grad(fx)),
            ("dL/dh0", h0.Grad!.ToArray(), Grad(th0), Grad(fh0)),
        };
        if (c0 is not null) report.Add(("dL/dc0", c0.Grad!.ToArray(), Grad(tc0!), Grad(fc0!)));
        for (int p = 0; p < names.Length; p++)
            report.Add(($"dL/d{names[p]}", ours.Parameters[p].Grad!.ToArray(), Grad(composed.Parameters[p]), Grad(fused.get_parameter(names[p])!)));

        bool ok = true;
        foreach (var (name, o, c, f) in report)
        {
            double scale = Math.Max(1, o.Max(Math.Abs));
            double dComposed = MaxDiff(o, c) / scale, dFused = MaxDiff(o, f) / scale;
            bool good = dComposed <= Tolerance && dFused <= Tolerance;
            ok &= good;
            Console.WriteLine($"{kind,-4} {name,-16} ours vs torch composed {dComposed:E1}, vs torch fused {dFused:E1} {(good ? "ok" : "MISMATCH")}");
        }
        return ok;
    }

    private static double[] Grad(TorchTensor leaf) =>
        leaf.grad?.data<double>().ToArray() ?? throw new InvalidOperationException("check: a libtorch leaf received no gradient.");

    private static double MaxDiff(double[] a, double[] b) =>
        a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (p, q) => Math.Abs(p - q)).DefaultIfEmpty(0).Max();
}
