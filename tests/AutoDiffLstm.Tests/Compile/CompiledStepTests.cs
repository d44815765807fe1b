using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// A compiled step (traced once, elementwise work fused) gives the interpreted step's values and gradients for every
/// registered cell and every layer option, with far fewer tape entries. Double precision; the fused backward sums
/// contributions in another order than the tape, so gradients agree to rounding (a relative 1e-12 bound, which a
/// wrong derivative exceeds by many orders of magnitude), forward values exactly.
/// </summary>
public class CompiledStepTests
{
    public static TheoryData<string> Cells() => [.. CellRegistry.Names];

    internal sealed record Options(int Steps = 9, int Layers = 1, bool Bidirectional = false, bool Residual = false, string Padding = "none",
        int DetachEvery = 0, int CheckpointEvery = 0, bool RetainStates = false, bool Hoist = true);

    internal static (double[] Output, double[][] Grads, int Ops, double[][] StateGrads) Run(string cell, bool compile, Options o, int seed = 5)
    {
        const int batch = 3, input = 2, hidden = 4;
        var rng = new Rng((ulong)seed);
        var layer = new RecurrentLayer<double>((i, r) => cell == "mgu-custom" ? Mgu(i, hidden, r) : CellRegistry.Create<double>(cell, i, hidden, r), input, rng.Fork(), o.Layers, o.Bidirectional, o.Residual);
        var x = Tensor.RandomNormal<double>(rng, [o.Steps, batch, input]);
        var weights = Tensor.RandomNormal<double>(rng, [o.Steps, batch, layer.OutputSize]);
        int[]? lengths = o.Padding == "lengths" ? [o.Steps, o.Steps / 2, 1] : null;
        Tape.Current.Reset();
        var leaves = layer.NamedParameters().Select(p => p.Value).Append(x).ToArray();
        foreach (var t in leaves) { t.ZeroGrad(); t.RequireGrad(); }
        var result = layer.Forward(x, new SequenceOptions<double>
        {
            Lengths = lengths, DetachEvery = o.DetachEvery, CheckpointEvery = o.CheckpointEvery, RetainStateGradients = o.RetainStates,
            HoistInputProjection = o.Hoist, Compile = compile,
        });
        int ops = Tape.Current.Count;
        var loss = (result.Output * weights).Sum() + result.FinalStates[0][0].Square().Sum();
        loss.Backward();
        // Every state tensor's retained gradient (h and c of an LSTM): the total derivative, also where the step reads it again.
        var stateGrads = o.RetainStates ? result.StepStates[0].SelectMany(s => s.Tensors.Select(t => t.Grad?.ToArray() ?? [])).ToArray() : [];
        return (result.Output.ToArray(), leaves.Select(t => t.Grad!.ToArray()).ToArray(), ops, stateGrads);
    }

    /// <summary>The README's minimal gated unit as a CustomCell.</summary>
    internal static RecurrentCell<double> Mgu(int inputSize, int hidden, Rng rng) => new CustomCell<double>("mgu", inputSize, hidden, ["h"],
        new Dictionary<string, int[]> { ["weight_ih"] = [2 * hidden, inputSize], ["bias_ih"] = [2 * hidden], ["weight_hf"] = [hidden, hidden], ["weight_hn"] = [hidden, hidden] },
        (x, s, p) =>
        {
            var (xs, h) = (x.Chunk(2), s["h"]);
            var f = (xs[0] + h.Linear(p["weight_hf"])).Sigmoid();
            var n = (xs[1] + (f * h).Linear(p["weight_hn"])).Tanh();
            return [h + f * (n - h)];
        }, rng, projectInput: (x, p) => x.Linear(p["weight_ih"], p["bias_ih"]));

    internal static void AssertClose(double[] expected, double[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Select(Math.Abs).DefaultIfEmpty(0).Max());
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"{what}[{i}]: interpreted {expected[i]:R}, compiled {actual[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void EveryRegisteredCellGivesTheInterpretedValuesAndGradients(string cell)
    {
        var o = new Options();
        var interpreted = Run(cell, compile: false, o);
        var compiled = Run(cell, compile: true, o);
        Assert.Equal(interpreted.Output, compiled.Output);
        for (int k = 0; k < interpreted.Grads.Length; k++) AssertClose(interpreted.Grads[k], compiled.Grads[k], 1e-12, $"{cell} grad {k}");
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void EveryRegisteredCellCompiles(string cell)
    {
        var c = CellRegistry.Create<double>(cell, 2, 4, new Rng(1));
        Assert.Null(c.CompiledStep.FallbackReason(c.StepInputShapes(3)));
        Assert.True(c.CompiledStep.FusedGroupCount(c.StepInputShapes(3)) >= 1);
    }
}
