using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Cells linear in their state (minGRU, minLSTM) train by one scan over time: the same outputs, final states and
/// gradients as stepping them, under every layer option, and one Scan on the tape instead of T steps.
/// </summary>
public class ParallelFormTests
{
    public static TheoryData<string, int, int, bool, bool, string> Cases() => new()
    {
        // cell, T, layers, bidirectional, residual, padding
        { "mingru", 7, 1, false, false, "none" },
        { "minlstm", 7, 1, false, false, "none" },
        { "mingru", 40, 2, false, true, "lengths" },
        { "minlstm", 40, 2, true, false, "mask" },
        { "mingru", 700, 1, false, false, "lengths" },
        { "minlstm", 700, 2, true, true, "none" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ScanAndSteppingGiveTheSameValuesAndGradients(string cell, int steps, int layers, bool bidirectional, bool residual, string padding)
    {
        const int batch = 3, input = 2, hidden = 4;
        var rng = new Rng(17);
        var layer = new RecurrentLayer<double>((i, r) => CellRegistry.Create<double>(cell, i, hidden, r), input, rng.Fork(), layers, bidirectional, residual);
        var x = Tensor.RandomNormal<double>(rng, [steps, batch, input]);
        var initial = layer.InitialStates(batch).Select(s => s.Map(t => Tensor.RandomUniform<double>(rng, t.Shape.ToArray(), -1, 1))).ToArray();
        int[]? lengths = padding == "lengths" ? [steps, steps / 2, 1] : null;
        Tensor<double>? mask = null;
        if (padding == "mask")
        {
            mask = Tensor.Zeros<double>(steps, batch);
            var m = mask.AsWritableSpan();
            for (int i = 0; i < m.Length; i++) m[i] = rng.NextDouble() < 0.7 ? 1 : 0;
        }
        var weights = Tensor.RandomNormal<double>(rng, [steps, batch, layer.OutputSize]);

        (double[] Output, double[][] Finals, double[][] Grads, IReadOnlyList<string> Ops) Run(bool parallel)
        {
            Tape.Current.Reset();
            var leaves = layer.NamedParameters().Select(p => p.Value).Append(x).ToArray();
            foreach (var t in leaves) { t.ZeroGrad(); t.RequireGrad(); }
            var result = layer.Forward(x, new SequenceOptions<double> { InitialStates = initial, Lengths = lengths, Mask = mask, ParallelForm = parallel, Compile = false });
            var ops = Tape.Current.OperationNames();
            var loss = (result.Output * weights).Sum() + result.Final("h").Square().Sum();
            loss.Backward();
            return (result.Output.ToArray(), result.FinalStates.Select(s => s[0].ToArray()).ToArray(), leaves.Select(t => t.Grad!.ToArray()).ToArray(), ops);
        }

        var stepped = Run(parallel: false);
        var scanned = Run(parallel: true);
        Assert.DoesNotContain("Scan", stepped.Ops);
        // The forward direction scans; a reverse direction falls back to stepping (the same values either way).
        Assert.Equal(layers, scanned.Ops.Count(o => o == "Scan"));
        Assert.True(scanned.Ops.Count < stepped.Ops.Count / 2 || bidirectional, $"{scanned.Ops.Count} operations scanned, {stepped.Ops.Count} stepped");

        // Up to one chunk of 256 steps the scan is the stepped loop's arithmetic; beyond, the chunk carries round differently.
        double tolerance = steps <= 256 ? 1e-15 : 1e-12;
        Near(stepped.Output, scanned.Output, tolerance, "outputs");
        for (int i = 0; i < stepped.Finals.Length; i++) Near(stepped.Finals[i], scanned.Finals[i], tolerance, $"final state {i}");
        for (int i = 0; i < stepped.Grads.Length; i++) Near(stepped.Grads[i], scanned.Grads[i], 1e3 * tolerance, $"gradient {i}");
    }

    private static void Near(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1 + expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: stepped {expected[i]:R}, scanned {actual[i]:R}");
    }

    [Fact]
    public void UpToOneChunkTheScannedOutputsAreTheSteppedOnesBitForBit()
    {
        var rng = new Rng(5);
        var layer = new RecurrentLayer<double>((i, r) => new MinGruCell<double>(i, 6, r), 3, rng.Fork());
        var x = Tensor.RandomNormal<double>(rng, [256, 2, 3]);
        using var _ = Autograd.NoGrad();
        var stepped = layer.Forward(x, new SequenceOptions<double> { ParallelForm = false }).Output.ToArray();
        var scanned = layer.Forward(x).Output.ToArray();
        Assert.Equal(stepped, scanned);
    }
}
