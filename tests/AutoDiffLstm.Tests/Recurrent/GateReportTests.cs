using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// The built-in gated cells report their gates to <see cref="GateMonitor"/>: which gates, in which order and range, and
/// that the reported tensors are the ones the step really used (the state update recomputed from them matches).
/// </summary>
public class GateReportTests
{
    private static List<(string Gate, GateRange Range, Tensor<double> Activation)> Observe(RecurrentCell<double> cell, Tensor<double> x, RecurrentState<double> state, out RecurrentState<double> next)
    {
        var seen = new List<(string, GateRange, Tensor<double>)>();
        using (GateMonitor.Listen((gate, a, range) => seen.Add((gate, range, ((Tensor<double>)a).Clone()))))
            next = cell.Next(x, state);
        return seen;
    }

    private static RecurrentState<double> RandomState(RecurrentCell<double> cell, int batch, Rng rng) =>
        cell.InitialState(batch).Map(t => Tensor.RandomNormal<double>(rng, [.. t.Shape], 0, 0.5));

    [Fact]
    public void LstmReportsItsFourGatesAndTheyReproduceTheStateUpdate()
    {
        var rng = new Rng(11);
        var cell = new LstmCell<double>(3, 4, rng);
        var state = RandomState(cell, 2, rng);
        var seen = Observe(cell, Tensor.RandomNormal<double>(rng, [2, 3]), state, out var next);

        Assert.Equal(["input", "forget", "candidate", "output"], seen.Select(s => s.Gate));
        Assert.Equal([GateRange.Sigmoid, GateRange.Sigmoid, GateRange.Tanh, GateRange.Sigmoid], seen.Select(s => s.Range));
        var (i, f, g, o) = (seen[0].Activation, seen[1].Activation, seen[2].Activation, seen[3].Activation);
        var c = f * state["c"] + i * g;
        Approx.Equal(c.ToArray(), next["c"], 1e-14, "c_t from the reported gates");
        Approx.Equal((o * c.Tanh()).ToArray(), next["h"], 1e-14, "h_t from the reported gates");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void WithZeroWeightsTheForgetGateIsTheSigmoidOfItsBias(double bias)
    {
        var cell = new LstmCell<double>(2, 3, new Rng(5), forgetBias: bias);
        var zeroWeights = cell.WithParameters(cell.NamedParameters().Select(p => new KeyValuePair<string, Tensor<double>>(p.Key,
            p.Key.StartsWith("weight", StringComparison.Ordinal) ? Tensor.Zeros<double>([.. p.Value.Shape]) : p.Value)));
        var traces = GateStatistics.Measure(zeroWeights, Tensor.RandomNormal<double>(new Rng(6), [4, 5, 2]));

        var forget = traces.Single(t => t.Gate == "forget");
        Assert.All(forget.Mean, m => Assert.Equal(1 / (1 + Math.Exp(-bias)), m, 12));
        Assert.Equal(4, forget.Saturated.Length);
    }

    [Fact]
    public void GruReportsResetUpdateAndCandidateAndTheyReproduceTheStateUpdate()
    {
        var rng = new Rng(12);
        var cell = new GruCell<double>(3, 4, rng);
        var state = RandomState(cell, 2, rng);
        var seen = Observe(cell, Tensor.RandomNormal<double>(rng, [2, 3]), state, out var next);

        Assert.Equal(["reset", "update", "candidate"], seen.Select(s => s.Gate));
        Assert.Equal([GateRange.Sigmoid, GateRange.Sigmoid, GateRange.Tanh], seen.Select(s => s.Range));
        var (z, n) = (seen[1].Activation, seen[2].Activation);
        Approx.Equal(((1.0 - z) * n + z * state["h"]).ToArray(), next["h"], 1e-14, "h_t from the reported gates");
    }

    public static TheoryData<string, string[]> VariantGates() => new()
    {
        { "V", ["input", "forget", "candidate", "output"] },
        { "NIG", ["forget", "candidate", "output"] },
        { "NFG", ["input", "candidate", "output"] },
        { "NOG", ["input", "forget", "candidate"] },
        { "NIAF", ["input", "forget", "output"] },
        { "NOAF", ["input", "forget", "candidate", "output"] },
        { "NP", ["input", "forget", "candidate", "output"] },
        { "CIFG", ["input", "forget", "candidate", "output"] },
        { "FGR", ["input", "forget", "candidate", "output"] },
    };

    [Theory]
    [MemberData(nameof(VariantGates))]
    public void GreffVariantsReportExactlyTheGatesTheyHave(string variant, string[] gates)
    {
        var rng = new Rng(13);
        var cell = new LstmVariantCell<double>(LstmVariant.Greff.Single(v => v.Name == variant), 3, 4, rng);
        var state = RandomState(cell, 2, rng);
        var seen = Observe(cell, Tensor.RandomNormal<double>(rng, [2, 3]), state, out var next);

        Assert.Equal(gates, seen.Select(s => s.Gate));
        var byName = seen.ToDictionary(s => s.Gate, s => s.Activation);
        if (byName.TryGetValue("forget", out var f) && byName.TryGetValue("input", out var i) && byName.TryGetValue("candidate", out var g))
            Approx.Equal((f * state["c"] + i * g).ToArray(), next["c"], 1e-14, $"{variant}: c_t from the reported gates");
        if (variant == "CIFG") Approx.Equal((1.0 - byName["input"]).ToArray(), byName["forget"], 1e-15, "CIFG: f = 1 - i");
    }
}
