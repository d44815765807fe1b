using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>Parameter names, order and shapes are PyTorch's (nn.RNN / nn.LSTM / nn.GRU named_parameters()).</summary>
public class ParameterNamingTests
{
    private static string Describe(RecurrentLayer<double> layer) =>
        string.Join("; ", layer.NamedParameters().Select(p => $"{p.Key} {p.Value.ShapeText}"));

    /// <summary>What torch.nn.{RNN,LSTM,GRU}(input, hidden, num_layers, bidirectional) lists, gates G = 1, 4 or 3.</summary>
    private static string PyTorchLayout(int gates, int input, int hidden, int layers, bool bidirectional)
    {
        var parts = new List<string>();
        int g = gates * hidden, directions = bidirectional ? 2 : 1;
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < directions; d++)
            {
                string s = $"_l{l}" + (d == 1 ? "_reverse" : "");
                int inWidth = l == 0 ? input : directions * hidden;
                parts.Add($"weight_ih{s} [{g}, {inWidth}]");
                parts.Add($"weight_hh{s} [{g}, {hidden}]");
                parts.Add($"bias_ih{s} [{g}]");
                parts.Add($"bias_hh{s} [{g}]");
            }
        return string.Join("; ", parts);
    }

    [Fact]
    public void SingleLayerLstmHasPyTorchNamesAndShapes()
    {
        var lstm = RecurrentLayer.Lstm<double>(3, 5, new Rng(1));
        Assert.Equal("weight_ih_l0 [20, 3]; weight_hh_l0 [20, 5]; bias_ih_l0 [20]; bias_hh_l0 [20]", Describe(lstm));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    public void StacksHavePyTorchNamesShapesAndOrder(int layers, bool bidirectional)
    {
        var rng = new Rng(2);
        Assert.Equal(PyTorchLayout(1, 3, 5, layers, bidirectional), Describe(RecurrentLayer.Rnn<double>(3, 5, rng, layers, bidirectional)));
        Assert.Equal(PyTorchLayout(1, 3, 5, layers, bidirectional), Describe(RecurrentLayer.Rnn<double>(3, 5, rng, layers, bidirectional, ElmanActivation.Relu)));
        Assert.Equal(PyTorchLayout(4, 3, 5, layers, bidirectional), Describe(RecurrentLayer.Lstm<double>(3, 5, rng, layers, bidirectional)));
        Assert.Equal(PyTorchLayout(3, 3, 5, layers, bidirectional), Describe(RecurrentLayer.Gru<double>(3, 5, rng, layers, bidirectional)));
    }

    [Fact]
    public void GreffVariantsAddPeepholeAndGateRecurrenceNames()
    {
        var rng = new Rng(3);
        string Cell(LstmVariant v) => string.Join("; ", new LstmVariantCell<double>(v, 2, 3, rng).NamedParameters().Select(p => $"{p.Key} {p.Value.ShapeText}"));
        const string common4 = "weight_ih [12, 2]; weight_hh [12, 3]; bias_ih [12]; bias_hh [12]";
        const string common3 = "weight_ih [9, 2]; weight_hh [9, 3]; bias_ih [9]; bias_hh [9]";
        Assert.Equal(common4 + "; weight_ci [3]; weight_cf [3]; weight_co [3]", Cell(LstmVariant.Vanilla));
        Assert.Equal(common4, Cell(LstmVariant.NoPeepholes));
        Assert.Equal(common3 + "; weight_cf [3]; weight_co [3]", Cell(LstmVariant.NoInputGate));
        Assert.Equal(common3 + "; weight_ci [3]; weight_co [3]", Cell(LstmVariant.NoForgetGate));
        Assert.Equal(common3 + "; weight_ci [3]; weight_cf [3]", Cell(LstmVariant.NoOutputGate));
        Assert.Equal(common3 + "; weight_ci [3]; weight_co [3]", Cell(LstmVariant.CoupledGates));
        Assert.Equal(common4 + "; weight_ci [3]; weight_cf [3]; weight_co [3]; weight_gg [9, 9]", Cell(LstmVariant.FullGateRecurrent));
        Assert.Equal("ifgo", LstmVariant.Vanilla.GateLayout);
        Assert.Equal("fgo", LstmVariant.NoInputGate.GateLayout);
        Assert.Equal("igo", LstmVariant.CoupledGates.GateLayout);
    }

    [Fact]
    public void LayerSuffixesApplyToExtraNamesToo()
    {
        var layer = RecurrentLayer.LstmVariant<double>(LstmVariant.FullGateRecurrent, 2, 3, new Rng(4), numLayers: 2, bidirectional: true);
        var names = layer.NamedParameters().Select(p => p.Key).ToArray();
        Assert.Contains("weight_ci_l0", names);
        Assert.Contains("weight_gg_l1_reverse", names);
        Assert.Equal(4 * 8, names.Length);
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Fact]
    public void WithParametersRebuildsTheSameFunction()
    {
        var a = RecurrentLayer.Gru<double>(3, 4, new Rng(5), numLayers: 2, bidirectional: true);
        var b = RecurrentLayer.Gru<double>(3, 4, new Rng(6), numLayers: 2, bidirectional: true);
        var x = Tensor.RandomNormal<double>(new Rng(7), [5, 2, 3]);
        Assert.NotEqual(a.Forward(x).Output.ToArray(), b.Forward(x).Output.ToArray());
        var rebuilt = b.WithParameters(a.NamedParameters());
        Assert.Equal(a.Forward(x).Output.ToArray(), rebuilt.Forward(x).Output.ToArray());
        // The given tensors are used as they are (loading and gradient checks rely on it).
        Assert.Same(a.NamedParameters()[0].Value, rebuilt.NamedParameters()[0].Value);
    }

    [Fact]
    public void WithParametersRejectsMissingUnknownAndMisshapenTensors()
    {
        var layer = RecurrentLayer.Lstm<double>(3, 4, new Rng(8));
        var named = layer.NamedParameters().ToList();

        var missing = Assert.Throws<ArgumentException>(() => layer.WithParameters(named.Skip(1)));
        Assert.Contains("weight_ih_l0", missing.Message);

        var extra = Assert.Throws<ArgumentException>(() => layer.WithParameters(named.Append(new("weight_ih_l1", Tensor.Zeros<double>(16, 4)))));
        Assert.Contains("weight_ih_l1", extra.Message);

        var wrong = named.ToList();
        wrong[1] = new("weight_hh_l0", Tensor.Zeros<double>(16, 3));
        var shape = Assert.Throws<ArgumentException>(() => layer.WithParameters(wrong));
        Assert.Contains("weight_hh", shape.Message);
        Assert.Contains("[16, 3]", shape.Message);
        Assert.Contains("[16, 4]", shape.Message);
    }
}
