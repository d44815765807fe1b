using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Forward mode and second derivatives through whole recurrent layers: every parameter, the input sequence and the
/// initial states of <see cref="RecurrentObjective{T}"/> at once, in double, against finite differences.
/// </summary>
public class SecondOrderRecurrentTests
{
    public static TheoryData<string, int> CellsAndHorizons => new()
    {
        { "lstm", 500 }, { "gru", 500 }, { "rnn", 500 }, { "lstm", 40 }, { "mingru", 500 },
    };

    private static RecurrentLayer<double> Layer(string cell, int layers = 1, bool bidirectional = false) => cell switch
    {
        "lstm" => RecurrentLayer.Lstm<double>(2, 3, new Rng(11), layers, bidirectional),
        "gru" => RecurrentLayer.Gru<double>(2, 3, new Rng(11), layers, bidirectional),
        // Trained by its parallel form: one Scan over time (two chunks of the scan kernel at T = 500, four at 1000).
        "mingru" => new RecurrentLayer<double>((i, r) => CellRegistry.Create<double>("mingru", i, 3, r), 2, new Rng(11), layers, bidirectional),
        _ => RecurrentLayer.Rnn<double>(2, 3, new Rng(11), layers, bidirectional),
    };

    private static readonly GradCheckOptions SecondOrder = new() { Step = 1e-5, AbsoluteTolerance = 1e-6, RelativeTolerance = 1e-5, Directions = 2 };

    [Theory]
    [MemberData(nameof(CellsAndHorizons))]
    public void HessianVectorProductsOfALayerLossMatchDifferencesOfGradients(string cell, int steps)
    {
        var x = Tensor.RandomNormal<double>(new Rng(12), [steps, 2, 2], std: 0.5);
        var objective = new RecurrentObjective<double>(Layer(cell), x);
        var report = GradCheck.CheckSecondOrder<double>(objective.Evaluate, objective.Inputs, SecondOrder);
        Assert.True(report.Passed, $"{cell} T={steps}: {report}");
    }

    [Fact]
    public void SecondOrderComposesWithMasksStacksBidirectionalityAndTruncation()
    {
        var x = Tensor.RandomNormal<double>(new Rng(13), [12, 2, 2], std: 0.5);
        var masked = new RecurrentObjective<double>(Layer("lstm", layers: 2, bidirectional: true), x, new SequenceOptions<double> { Lengths = [12, 7] });
        var r1 = GradCheck.CheckSecondOrder<double>(masked.Evaluate, masked.Inputs, SecondOrder);
        Assert.True(r1.Passed, "masked: " + r1);
        // With truncation the gradient is truncated BPTT's, the exact gradient of the truncated objective G (states
        // entering each chunk held at their values). Its HVP is G's Hessian: the states cut by Detach carry no tangent,
        // so the layer's own HVP must equal G's, and G's must match differences of G's gradients.
        var truncated = new RecurrentObjective<double>(Layer("gru"), x, new SequenceOptions<double> { DetachEvery = 4 });
        var v = truncated.Inputs.Select((t, i) => Tensor.RandomNormal<double>(new Rng(100 + (ulong)i), [.. t.Shape])).ToArray();
        var ofLayer = Autograd.Hvp(truncated.Evaluate, truncated.Inputs, v);
        var ofG = Autograd.Hvp(truncated.TruncatedObjective, truncated.Inputs, v);
        for (int i = 0; i < v.Length; i++) Approx.Equal(ofG[i].ToArray(), ofLayer[i], 1e-12, truncated.InputNames[i]);
        var r2 = GradCheck.CheckSecondOrder<double>(truncated.TruncatedObjective, truncated.Inputs, SecondOrder);
        Assert.True(r2.Passed, "truncated: " + r2);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn")]
    [InlineData("mingru")]
    public void JvpThroughAThousandStepsMatchesCentralDifferencesAndTheVjp(string cell)
    {
        var x = Tensor.RandomNormal<double>(new Rng(14), [1000, 1, 2], std: 0.5);
        var objective = new RecurrentObjective<double>(Layer(cell), x);
        Tape.Current.Reset();
        objective.Evaluate(objective.Inputs.Select(t => t.Clone().RequireGrad()).ToArray());
        Assert.Equal(cell == "mingru", Tape.Current.OperationNames().Contains("Scan"));
        Tape.Current.Reset();
        var report = GradCheck.CheckJvp<double>(objective.Evaluate, objective.Inputs, new GradCheckOptions { Directions = 1 });
        Assert.True(report.Passed, $"{cell} T=1000: {report}");
    }

    [Fact]
    public void UnderTruncationTheJvpIsTheTransposeOfTruncatedBptt()
    {
        // Detach stops tangents as it stops gradients, so <J v, u> = <v, J^T u> holds with both truncated.
        var x = Tensor.RandomNormal<double>(new Rng(15), [30, 2, 2], std: 0.5);
        var layer = Layer("lstm");
        var options = new SequenceOptions<double> { DetachEvery = 5 };
        var parameters = layer.NamedParameters().Select(p => p.Value).ToArray();
        Tensor<double> Outputs(Tensor<double>[] p) =>
            layer.WithParameters(layer.NamedParameters().Select((kv, i) => new KeyValuePair<string, Tensor<double>>(kv.Key, p[i]))).Forward(x, options).Output;
        var rng = new Rng(16);
        var v = parameters.Select(p => Tensor.RandomNormal<double>(rng, [.. p.Shape])).ToArray();
        var (y, jv) = Autograd.Jvp(Outputs, parameters, v);
        var u = Tensor.RandomNormal<double>(rng, [.. y.Shape]);
        var (_, jtu) = Autograd.Vjp(Outputs, parameters, u);
        double left = (jv * u).Sum().Item(), right = v.Zip(jtu, (a, b) => (a * b).Sum().Item()).Sum();
        Assert.Equal(left, right, 1e-10 * (1 + Math.Abs(left)));
        // ... and it differs from the untruncated JVP (the check can fail).
        var (_, full) = Autograd.Jvp(p => layer.WithParameters(layer.NamedParameters().Select((kv, i) => new KeyValuePair<string, Tensor<double>>(kv.Key, p[i]))).Forward(x).Output, parameters, v);
        Assert.True(Math.Abs((full * u).Sum().Item() - left) > 1e-6);
    }

    [Fact]
    public void GradientCheckpointingIsAClearErrorForSecondOrder()
    {
        var x = Tensor.RandomNormal<double>(new Rng(17), [16, 1, 2]);
        var objective = new RecurrentObjective<double>(Layer("lstm"), x, new SequenceOptions<double> { CheckpointEvery = 4 });
        var e = Assert.Throws<NotSupportedException>(() => Autograd.Hvp(objective.Evaluate, objective.Inputs, objective.Inputs));
        Assert.Contains("CheckpointEvery = 0", e.Message);
    }
}
