using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// A researcher's own cell gets layers, masking, truncation, diagnostics and gradient checks with no more code. The
/// MGU of <see cref="CellZoo.Mgu"/> also runs in every property and equation test; here: a cell without an input
/// projection and with a wider second state, and the error messages of a wrong step function.
/// </summary>
public class CustomCellTests
{
    /// <summary>
    /// A leaky tanh cell with a slow memory m of width 2H (a made-up variant): h' = tanh(W [x; h; m]),
    /// m' = 0.9 m + 0.1 [h'; h'].
    /// </summary>
    private static CustomCell<double> LeakyMemory(int inputSize, int hiddenSize, Rng rng) =>
        new("leaky_memory", inputSize, hiddenSize, stateNames: ["h", "m"],
            parameters: new Dictionary<string, int[]> { ["weight"] = [hiddenSize, inputSize + 3 * hiddenSize], ["bias"] = [hiddenSize] },
            step: (x, s, p) =>
            {
                var h = Tensor.Concat(-1, x, s["h"], s["m"]).Linear(p["weight"], p["bias"]).Tanh();
                return [h, 0.9 * s["m"] + 0.1 * Tensor.Concat(-1, h, h)];
            },
            rng: rng, stateSizes: [hiddenSize, 2 * hiddenSize]);

    [Fact]
    public void CellWithoutProjectionAndWiderStateWorksInABidirectionalMaskedStack()
    {
        var layer = new RecurrentLayer<double>((i, r) => LeakyMemory(i, 2, r), 3, new Rng(1), numLayers: 2, bidirectional: true, residual: true);
        Assert.False(layer.Cell(0).HasInputProjection);
        Assert.Equal(["weight_l0", "bias_l0", "weight_l0_reverse", "bias_l0_reverse", "weight_l1", "bias_l1", "weight_l1_reverse", "bias_l1_reverse"],
            layer.NamedParameters().Select(p => p.Key));
        Assert.Equal([2, 4], layer.InitialStates(2)[0]["m"].Shape);

        var rng = new Rng(2);
        var x = Tensor.RandomNormal<double>(rng, [5, 2, 3]);
        var h0 = layer.InitialStates(2).Select(s => s.Map(t => Tensor.RandomNormal<double>(rng, t.Shape.ToArray()))).ToArray();
        var names = layer.NamedParameters().Select(p => p.Key).ToArray();
        var inputs = layer.NamedParameters().Select(p => p.Value.Clone()).Append(x).Concat(h0.SelectMany(s => s.Tensors)).ToArray();
        var report = GradCheck.Check<double>(v =>
        {
            var rebuilt = layer.WithParameters(names.Select((n, k) => new KeyValuePair<string, Tensor<double>>(n, v[k])));
            int next = names.Length + 1;
            var initial = h0.Select(s => new RecurrentState<double>(s.Names, s.Tensors.Select(_ => v[next++]).ToArray())).ToArray();
            var result = rebuilt.Forward(v[names.Length], new SequenceOptions<double> { Lengths = [5, 3], InitialStates = initial });
            return Tensor.Concat(-1, result.Output.Reshape(-1), result.Final("m").Reshape(-1));
        }, inputs, new GradCheckOptions { Mode = GradCheckMode.Directional, Directions = 8 });
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void AWrongStepFunctionIsReportedWithTheExpectedStates()
    {
        var bad = new CustomCell<double>("bad", 2, 3, ["h", "c"], new Dictionary<string, int[]> { ["w"] = [3, 2] },
            step: (x, s, p) => [x.Linear(p["w"])], rng: new Rng(3));
        var e = Assert.Throws<InvalidOperationException>(() => Unroll.Run(bad, Tensor.Zeros<double>(4, 5, 2)));
        Assert.Contains("bad", e.Message);
        Assert.Contains("[5, 3]", e.Message);
        Assert.Contains("h [5, 3], c [5, 3]", e.Message);

        var unknown = new CustomCell<double>("typo", 2, 3, ["h"], new Dictionary<string, int[]> { ["w"] = [3, 2] },
            step: (x, s, p) => [x.Linear(p["weight"])], rng: new Rng(3));
        var missing = Assert.Throws<KeyNotFoundException>(() => Unroll.Run(unknown, Tensor.Zeros<double>(4, 5, 2)));
        Assert.Contains("'weight'", missing.Message);
        Assert.Contains("w", missing.Message);

        Assert.Throws<ArgumentException>(() => new CustomCell<double>("sizes", 2, 3, ["h", "c"], new Dictionary<string, int[]>(),
            step: (x, s, p) => [s["h"], s["c"]], rng: new Rng(3), stateSizes: [4, 3]));
    }
}
