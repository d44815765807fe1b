using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>PyTorch's stacked states [L*D, B, H]: h_0 (c_0) go in and h_n (c_n) come out in PyTorch's layout.</summary>
public class StackedStatesTests
{
    private static RecurrentLayer<double> Lstm() => RecurrentLayer.Lstm<double>(3, 4, new Rng(1), numLayers: 2, bidirectional: true);

    [Fact]
    public void StackedInitialStatesEqualThePerLayerStates()
    {
        var layer = Lstm();
        var rng = new Rng(2);
        var x = Tensor.RandomNormal<double>(rng, [6, 2, 3]);
        var h0 = Tensor.RandomNormal<double>(rng, [4, 2, 4]);
        var c0 = Tensor.RandomNormal<double>(rng, [4, 2, 4]);
        var perLayer = Enumerable.Range(0, 4).Select(slot => new RecurrentState<double>(["h", "c"],
            Tensor.FromArray(h0.ToArray().Skip(slot * 8).Take(8).ToArray(), 2, 4),
            Tensor.FromArray(c0.ToArray().Skip(slot * 8).Take(8).ToArray(), 2, 4))).ToArray();

        var stacked = layer.ForwardStacked(x, [h0, c0], new SequenceOptions<double> { Lengths = [6, 3] });
        var reference = layer.Forward(x, new SequenceOptions<double> { Lengths = [6, 3], InitialStates = perLayer });

        Assert.Equal(reference.Output.ToArray(), stacked.Output.ToArray());
        var (hn, cn) = (layer.StackStates(stacked.FinalStates)[0], layer.StackStates(stacked.FinalStates)[1]);
        Assert.Equal([4, 2, 4], hn.Shape);
        Assert.Equal(stacked.Final("h").ToArray(), hn.ToArray());
        for (int slot = 0; slot < 4; slot++)
        {
            Assert.Equal(reference.FinalStates[slot]["h"].ToArray(), hn.Select(0, slot).ToArray());
            Assert.Equal(reference.FinalStates[slot]["c"].ToArray(), cn.Select(0, slot).ToArray());
        }
        // h_n of the stack goes back in unchanged: the layout out is the layout in.
        Assert.Equal(layer.UnstackStates([hn, cn]).Select(s => s["h"].ToArray()), reference.FinalStates.Select(s => s["h"].ToArray()));
    }

    [Fact]
    public void GradientsReachTheStackedInitialStates()
    {
        var layer = RecurrentLayer.Gru<double>(2, 3, new Rng(1), numLayers: 2);
        var x = Tensor.RandomNormal<double>(new Rng(2), [4, 2, 2]);
        var h0 = Tensor.RandomNormal<double>(new Rng(3), [2, 2, 3]);
        var report = GradCheck.Check<double>(h => layer.ForwardStacked(x, [h]).Output.Tanh().Sum(), h0);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void WrongShapesGiveErrorsNamingTheShapes()
    {
        var layer = Lstm();
        var x = Tensor.RandomNormal<double>(new Rng(2), [6, 2, 3]);
        var good = Tensor.Zeros<double>(4, 2, 4);

        var rows = Assert.Throws<ArgumentException>(() => layer.ForwardStacked(x, [Tensor.Zeros<double>(2, 2, 4), good]));
        Assert.Contains("h0 has shape [2, 2, 4]; expected [4, 2, 4]", rows.Message);
        Assert.Contains("2 layer(s) x 2 direction(s)", rows.Message);

        var batch = Assert.Throws<ArgumentException>(() => layer.ForwardStacked(x, [good, Tensor.Zeros<double>(4, 3, 4)]));
        Assert.Contains("c0 has shape [4, 3, 4]; expected [4, 2, 4]", batch.Message);

        var rank = Assert.Throws<ArgumentException>(() => layer.ForwardStacked(x, [Tensor.Zeros<double>(2, 4), good]));
        Assert.Contains("h0 has shape [2, 4]", rank.Message);

        var count = Assert.Throws<ArgumentException>(() => layer.ForwardStacked(x, [good]));
        Assert.Contains("1 stacked state tensor(s) were given", count.Message);
        Assert.Contains("h0 [4, 2, 4], c0 [4, 2, 4]", count.Message);

        var both = Assert.Throws<ArgumentException>(() => layer.ForwardStacked(x, [good, good], new SequenceOptions<double> { InitialStates = layer.InitialStates(2) }));
        Assert.Contains("both stacked and in SequenceOptions.InitialStates", both.Message);

        var stack = Assert.Throws<ArgumentException>(() => layer.StackStates(layer.InitialStates(2).Take(3).ToArray()));
        Assert.Contains("3 state(s) were given; expected L*D", stack.Message);
    }
}
