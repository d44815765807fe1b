using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Diagnostics;

/// <summary>
/// Gate statistics: which gates each built-in cell reports, their values in cases with a known answer, saturation, a
/// custom cell's own gates, and that reporting costs nothing and changes nothing outside a listening scope.
/// </summary>
public class GateStatisticsTests
{
    private const int InputSize = 3, Hidden = 5, Batch = 4, Steps = 6;

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static Tensor<double> Inputs(ulong seed, int steps = Steps) => Tensor.RandomNormal<double>(new Rng(seed), [steps, Batch, InputSize]);

    /// <summary>The cell with every parameter replaced by f(name, current value).</summary>
    private static RecurrentCell<double> Rewritten(RecurrentCell<double> cell, Func<string, Tensor<double>, Tensor<double>> rewrite)
    {
        using var _ = Autograd.NoGrad();
        return cell.WithParameters(cell.NamedParameters().Select(p => new KeyValuePair<string, Tensor<double>>(p.Key, rewrite(p.Key, p.Value))).ToArray());
    }

    public static TheoryData<string, string[]> ReportedGates() => new()
    {
        { "lstm", ["input", "forget", "candidate", "output"] },
        { "gru", ["reset", "update", "candidate"] },
        { "lstm_v", ["input", "forget", "candidate", "output"] },
        { "lstm_nig", ["forget", "candidate", "output"] },
        { "lstm_nfg", ["input", "candidate", "output"] },
        { "lstm_nog", ["input", "forget", "candidate"] },
        { "lstm_niaf", ["input", "forget", "output"] },
        { "lstm_noaf", ["input", "forget", "candidate", "output"] },
        { "lstm_np", ["input", "forget", "candidate", "output"] },
        { "lstm_cifg", ["input", "forget", "candidate", "output"] },
        { "lstm_fgr", ["input", "forget", "candidate", "output"] },
        { "rnn_tanh", [] },
    };

    private static RecurrentCell<double> Make(string kind, Rng rng) => kind switch
    {
        "lstm" => new LstmCell<double>(InputSize, Hidden, rng),
        "gru" => new GruCell<double>(InputSize, Hidden, rng),
        "rnn_tanh" => new ElmanCell<double>(InputSize, Hidden, rng),
        _ => new LstmVariantCell<double>(LstmVariant.Greff.Single(v => "lstm_" + v.Name.ToLowerInvariant() == kind), InputSize, Hidden, rng),
    };

    [Theory]
    [MemberData(nameof(ReportedGates))]
    public void EveryBuiltInCellReportsItsGatesOncePerStep(string kind, string[] gates)
    {
        var traces = GateStatistics.Measure(Make(kind, new Rng(1)), Inputs(2));

        Assert.Equal(gates, traces.Select(t => t.Gate));
        foreach (var trace in traces)
        {
            Assert.Equal(trace.Gate == "candidate" ? GateRange.Tanh : GateRange.Sigmoid, trace.Range);
            Assert.Equal(Steps, trace.Mean.Length);
            Assert.Equal(Steps, trace.Saturated.Length);
            var (lo, hi) = trace.Range == GateRange.Sigmoid ? (0.0, 1.0) : (-1.0, 1.0);
            Assert.All(trace.Mean, m => Assert.InRange(m, lo, hi));
            Assert.All(trace.Saturated, s => Assert.InRange(s, 0.0, 1.0));
        }
    }

    [Fact]
    public void CoupledForgetGateIsOneMinusTheInputGate()
    {
        var traces = GateStatistics.Measure(Make("lstm_cifg", new Rng(3)), Inputs(4)).ToDictionary(t => t.Gate);
        for (int t = 0; t < Steps; t++) Assert.Equal(1 - traces["input"].Mean[t], traces["forget"].Mean[t], 1e-12);
    }

    /// <summary>With (almost) zero weights and only the forget bias set, every gate sits at sigmoid or tanh of its bias.</summary>
    [Fact]
    public void LstmWithForgetBiasThreeAndTinyWeightsHasForgetMeanSigmoidThreeAtEveryStep()
    {
        var cell = Rewritten(new LstmCell<double>(InputSize, Hidden, new Rng(5), forgetBias: 3.0), (name, p) => name.StartsWith("weight")
            ? p * 1e-9
            : Tensor.FromArray(p.ToArray().Select((_, i) => name == "bias_ih" && i / Hidden == 1 ? 3.0 : 0.0).ToArray(), p.Shape.ToArray()));

        var traces = GateStatistics.Measure(cell, Inputs(6)).ToDictionary(t => t.Gate);

        for (int t = 0; t < Steps; t++)
        {
            Assert.Equal(Sigmoid(3), traces["forget"].Mean[t], 1e-7);
            Assert.Equal(0.5, traces["input"].Mean[t], 1e-7);
            Assert.Equal(0.5, traces["output"].Mean[t], 1e-7);
            Assert.Equal(0.0, traces["candidate"].Mean[t], 1e-7);
            // sigmoid(3) = 0.9526 lies above the 0.95 saturation threshold; 0.5 and 0 are far from saturation.
            Assert.Equal(1.0, traces["forget"].Saturated[t]);
            Assert.Equal(0.0, traces["input"].Saturated[t]);
            Assert.Equal(0.0, traces["candidate"].Saturated[t]);
        }
    }

    /// <summary>The first step's gates from h = c = 0 computed by hand from the parameters: the reported mean is of the real activations.</summary>
    [Fact]
    public void FirstStepMeansMatchAHandComputationFromTheParameters()
    {
        var cell = new LstmCell<double>(InputSize, Hidden, new Rng(7));
        var inputs = Inputs(8);
        var p = cell.Parameters;
        using var _ = Autograd.NoGrad();
        var pre = inputs.Select(0, 0).Linear(p["weight_ih"], p["bias_ih"]) + p["bias_hh"]; // W_hh h_0 = 0
        var gates = GateStatistics.Measure(cell, inputs);
        string[] names = ["input", "forget", "candidate", "output"];
        for (int g = 0; g < 4; g++)
        {
            var values = new List<double>();
            for (int b = 0; b < Batch; b++)
                for (int k = 0; k < Hidden; k++)
                {
                    double z = pre[b, g * Hidden + k];
                    values.Add(g == 2 ? Math.Tanh(z) : Sigmoid(z));
                }
            Assert.Equal(names[g], gates[g].Gate);
            Assert.Equal(values.Average(), gates[g].Mean[0], 1e-12);
            double saturated = values.Count(a => g == 2 ? Math.Abs(a) > 0.95 : a < 0.05 || a > 0.95) / (double)values.Count;
            Assert.Equal(saturated, gates[g].Saturated[0], 1e-12);
        }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("lstm_v")]
    public void HugeWeightsSaturateEveryGate(string kind)
    {
        var cell = Rewritten(Make(kind, new Rng(9)), (_, p) => p * 1e6);
        var traces = GateStatistics.Measure(cell, Inputs(10));
        Assert.NotEmpty(traces);
        foreach (var trace in traces) Assert.All(trace.Saturated, s => Assert.Equal(1.0, s));
    }

    /// <summary>h' = (1 - z) h + z tanh(W x), z = sigmoid(U h + b): a custom cell that reports z and the candidate itself.</summary>
    private static CustomCell<double> LeakyGatedCell(Rng rng) =>
        new("leaky", InputSize, Hidden, ["h"],
            new Dictionary<string, int[]> { ["w"] = [Hidden, InputSize], ["u"] = [Hidden, Hidden], ["b"] = [Hidden] },
            (x, s, p) =>
            {
                var z = s["h"].Linear(p["u"], p["b"]).Sigmoid();
                GateMonitor.Observe("leak", z);
                var n = x.Linear(p["w"]).Tanh();
                GateMonitor.Observe("proposal", n, GateRange.Tanh);
                return [s["h"] + z * (n - s["h"])];
            }, rng);

    [Fact]
    public void ACustomCellThatReportsItsGatesIsTraced()
    {
        var cell = LeakyGatedCell(new Rng(11));
        var inputs = Inputs(12);
        var traces = GateStatistics.Measure(cell, inputs);

        Assert.Equal(["leak", "proposal"], traces.Select(t => t.Gate));
        Assert.Equal([GateRange.Sigmoid, GateRange.Tanh], traces.Select(t => t.Range));
        // At step 0 h = 0, so z = sigmoid(b) in every row.
        var b = cell.Parameters["b"].ToArray();
        Assert.Equal(b.Average(Sigmoid), traces[0].Mean[0], 1e-12);
        // The proposal depends on x only: its mean at step 3 is the mean of tanh(W x_3).
        using var _ = Autograd.NoGrad();
        var n = inputs.Select(0, 3).Linear(cell.Parameters["w"]).ToArray();
        Assert.Equal(n.Average(Math.Tanh), traces[1].Mean[3], 1e-12);
    }

    [Fact]
    public void WithoutAListenerNothingIsRecordedAndTheStepIsUnchanged()
    {
        var cell = new LstmCell<double>(InputSize, Hidden, new Rng(13));
        var x = Inputs(14).Select(0, 0);
        var calls = new List<string>();

        var withoutListener = cell.Next(x, cell.InitialState(Batch))[0].ToArray();
        RecurrentState<double> listened;
        using (GateMonitor.Listen((gate, _, _) => calls.Add(gate)))
            listened = cell.Next(x, cell.InitialState(Batch));
        Assert.Equal(["input", "forget", "candidate", "output"], calls);
        Assert.Equal(withoutListener, listened[0].ToArray());

        // After the scope is disposed, steps (with gradients recorded, too) report to nobody.
        var afterwards = cell.Next(x, cell.InitialState(Batch));
        afterwards[0].Sum().Backward();
        Assert.Equal(4, calls.Count);
        Assert.Equal(withoutListener, afterwards[0].ToArray());
    }

    [Fact]
    public void NestedListenersRestoreTheOuterOne()
    {
        var cell = new GruCell<double>(InputSize, Hidden, new Rng(15));
        var x = Inputs(16).Select(0, 0);
        var outer = new List<string>();
        var inner = new List<string>();
        using (GateMonitor.Listen((g, _, _) => outer.Add(g)))
        {
            using (GateMonitor.Listen((g, _, _) => inner.Add(g)))
                cell.Next(x, cell.InitialState(Batch));
            cell.Next(x, cell.InitialState(Batch));
        }
        Assert.Equal(["reset", "update", "candidate"], inner);
        Assert.Equal(["reset", "update", "candidate"], outer);
    }

    [Fact]
    public void AnInputOfTheWrongShapeIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => GateStatistics.Measure(new GruCell<double>(InputSize, Hidden, new Rng(1)), Tensor.Zeros<double>(4, 2)));
        Assert.Contains($"[T, B, {InputSize}]", e.Message);
    }
}
