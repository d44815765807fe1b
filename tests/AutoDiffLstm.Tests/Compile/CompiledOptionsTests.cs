using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Diagnostics;
using static AutoDiffLstm.Tests.Compile.CompiledStepTests;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>Compiled against interpreted under every option of the unroll and the layer: values, every gradient, retained state gradients, gate statistics.</summary>
public class CompiledOptionsTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "lstm", "lengths" }, { "gru", "bidirectional" }, { "rnn", "stack-residual" }, { "lstm", "detach" },
        { "gru", "checkpoint" }, { "lstm", "retain" }, { "lstm-cifg", "not-hoisted" }, { "janet", "lengths" },
        { "lstm-fgr", "bidirectional" }, { "slstm", "checkpoint" }, { "mlstm", "lengths" }, { "mgu-custom", "stack-residual" },
    };

    private static Options For(string option) => option switch
    {
        "lengths" => new Options(Padding: "lengths"),
        "bidirectional" => new Options(Bidirectional: true, Layers: 2),
        "stack-residual" => new Options(Layers: 3, Residual: true),
        "detach" => new Options(Steps: 12, DetachEvery: 4),
        "checkpoint" => new Options(Steps: 12, CheckpointEvery: 5),
        "retain" => new Options(RetainStates: true),
        "not-hoisted" => new Options(Hoist: false),
        _ => throw new ArgumentException(option),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void CompiledEqualsInterpreted(string cell, string option)
    {
        var o = For(option);
        var interpreted = Run(cell, compile: false, o);
        var compiled = Run(cell, compile: true, o);
        Assert.Equal(interpreted.Output, compiled.Output);
        for (int k = 0; k < interpreted.Grads.Length; k++) AssertClose(interpreted.Grads[k], compiled.Grads[k], 1e-12, $"{cell}/{option} grad {k}");
        for (int t = 0; t < interpreted.StateGrads.Length; t++) AssertClose(interpreted.StateGrads[t], compiled.StateGrads[t], 1e-12, $"dL/dh_{t}");
        Assert.Equal(o.RetainStates, compiled.StateGrads.Length > 0);
    }

    [Fact]
    public void ACompiledLstmStepRecordsFourEntriesInsteadOfFifteen()
    {
        var o = new Options(Steps: 10);
        var interpreted = Run("lstm", compile: false, o);
        var compiled = Run("lstm", compile: true, o);
        // Per step: Select of the projected input, Linear, the fused group and its two outputs (h, c) against 1 + 15.
        Assert.True(compiled.Ops * 3 < interpreted.Ops, $"{compiled.Ops} entries compiled, {interpreted.Ops} interpreted");
    }

    [Fact]
    public void GateStatisticsAreTheSameCompiled()
    {
        var cell = CellRegistry.Create<double>("lstm", 2, 4, new Rng(3));
        var x = Tensor.RandomNormal<double>(new Rng(4), [15, 3, 2]);
        // Measure unrolls with the default options (compiled); the interpreted statistics come from a listener on Compile = false.
        var compiled = GateStatistics.Measure(cell, x);
        var seen = new List<(string, double[])>();
        using (Autograd.NoGrad())
        using (GateMonitor.Listen((gate, a, _) => seen.Add((gate, ((Tensor<double>)a).ToArray()))))
            Unroll.Run(cell, x, new UnrollOptions<double> { Compile = false });
        Assert.Equal(4 * 15, seen.Count);
        foreach (var trace in compiled)
        {
            var mine = seen.Where(s => s.Item1 == trace.Gate).Select(s => s.Item2.Average()).ToArray();
            Assert.Equal(mine.Length, trace.Mean.Length);
            for (int t = 0; t < mine.Length; t++) Assert.Equal(mine[t], trace.Mean[t], 12);
        }
    }

    [Fact]
    public void FloatCompiledStaysWithinRoundingOfInterpreted()
    {
        static (float[] Out, float[] Grad) Go(bool compile)
        {
            var layer = RecurrentLayer.Lstm<float>(3, 16, new Rng(1));
            var x = Tensor.RandomNormal<float>(new Rng(2), [50, 4, 3]);
            foreach (var (_, p) in layer.NamedParameters()) p.ZeroGrad();
            var y = layer.Forward(x, new SequenceOptions<float> { Compile = compile }).Output;
            y.Square().Sum().Backward();
            return (y.ToArray(), layer.NamedParameters()[1].Value.Grad!.ToArray());
        }
        var (a, b) = (Go(false), Go(true));
        Assert.Equal(a.Out, b.Out);
        // Fused backward sums in another order: float gradients agree to a few ulps of their scale (1e-5 relative).
        double scale = a.Grad.Max(Math.Abs);
        for (int i = 0; i < a.Grad.Length; i++) Assert.True(Math.Abs(a.Grad[i] - b.Grad[i]) <= 1e-5 * scale, $"grad[{i}] {a.Grad[i]} vs {b.Grad[i]}");
    }

    [Fact]
    public void ACompiledLstmsGradientIsDifferentiable()
    {
        // Autograd.Hvp differentiates the interpreted graph (measured faster); a user's own double backward through a
        // compiled layer goes through the whole sequence's recorded VJP (its steps replayed by the compiled program, each
        // fused group through its members' rules) and must agree with it.
        var layer = RecurrentLayer.Lstm<double>(2, 3, new Rng(5));
        var x = Tensor.RandomNormal<double>(new Rng(6), [6, 2, 2]);
        var w = layer.NamedParameters()[1].Value;
        var v = Tensor.RandomNormal<double>(new Rng(7), [.. w.Shape]);
        Tensor<double> Loss(Tensor<double> p, bool compile) =>
            new RecurrentLayer<double>([[layer.Cell(0, 0).WithParameters(layer.Cell(0, 0).NamedParameters().Select(kv => kv.Key == "weight_hh" ? new KeyValuePair<string, Tensor<double>>(kv.Key, p) : kv))]])
                .Forward(x, new SequenceOptions<double> { Compile = compile }).Output.Tanh().Sum();
        var expected = Autograd.Hvp(p => Loss(p[0], compile: false), [w], [v])[0];

        Tape.Current.Reset();
        var leaf = w.Clone().RequireGrad();
        var loss = Loss(leaf, compile: true);
        Assert.Contains("CompiledSequence", Tape.Current.OperationNames());
        var g = Autograd.Grad(loss, [leaf], createGraph: true)[0];
        var hv = Autograd.Grad((g * v).Sum(), [leaf])[0];
        Tape.Current.Reset();
        AssertClose(expected.ToArray(), hv.ToArray(), 1e-12, "H v");
    }

    [Fact]
    public void ACustomCellThatBranchesOnValuesRunsInterpretedAndSaysWhy()
    {
        var cell = new CustomCell<double>("branchy", 2, 3, ["h"], new Dictionary<string, int[]> { ["w"] = [3, 3] },
            (x, s, p) => [s["h"].Sum().Item() > 0 ? (x.Narrow(1, 0, 2).Sum(1, keepDim: true) + s["h"].Linear(p["w"])).Tanh() : s["h"]], new Rng(1));
        string? reason = cell.CompiledStep.FallbackReason(cell.StepInputShapes(2));
        Assert.NotNull(reason);
        Assert.Contains("reads tensor values", reason);
        Assert.Contains("runs interpreted", cell.ExplainCompiledStep(2));
        var x = Tensor.RandomNormal<double>(new Rng(2), [5, 2, 2]);
        var a = Unroll.Run(cell, x, new UnrollOptions<double> { Compile = false }).Output.ToArray();
        var b = Unroll.Run(cell, x).Output.ToArray();
        Assert.Equal(a, b);
    }
}
