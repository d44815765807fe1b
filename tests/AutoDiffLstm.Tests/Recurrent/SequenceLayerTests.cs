using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>Semantics of the sequence layer: lengths and masks, reverse direction, stacking, residuals, h_n layout.</summary>
public class SequenceLayerTests
{
    private static void Close(Tensor<double> expected, Tensor<double> actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var (e, a) = (expected.ToArray(), actual.ToArray());
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-12 * (1 + Math.Abs(e[i])), $"{what}[{i}]: expected {e[i]}, got {a[i]}");
    }

    /// <summary>Column b of a [T, B, ...] tensor, first <paramref name="steps"/> steps, as [steps, 1, ...].</summary>
    private static Tensor<double> Sequence(Tensor<double> x, int b, int steps) => x.Narrow(0, 0, steps).Narrow(1, b, 1);

    public static TheoryData<string> Kinds() => new() { "lstm", "gru", "lstm_fgr", "mgu", "rnn_relu" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void PaddedBatchEqualsEachSequenceRunAlone(string kindName)
    {
        // As PyTorch's packed sequences: the reverse direction starts at each sequence's own last step.
        var kind = CellZoo.Get(kindName);
        var layer = new RecurrentLayer<double>((i, r) => kind.Make(i, 3, r), 2, new Rng(1), numLayers: 2, bidirectional: true);
        int[] lengths = [5, 2, 4, 1];
        var rng = new Rng(2);
        var x = Tensor.RandomNormal<double>(rng, [5, 4, 2]);
        var initial = layer.InitialStates(4).Select(s => s.Map(t => Tensor.RandomNormal<double>(rng, t.Shape.ToArray()))).ToArray();
        var batched = layer.Forward(x, new SequenceOptions<double> { Lengths = lengths, InitialStates = initial });

        for (int b = 0; b < lengths.Length; b++)
        {
            var alone = layer.Forward(Sequence(x, b, lengths[b]), new SequenceOptions<double> { InitialStates = initial.Select(s => s.Map(t => t.Narrow(0, b, 1))).ToArray() });
            Close(alone.Output, Sequence(batched.Output, b, lengths[b]), $"output of sequence {b}");
            Assert.All(batched.Output.Narrow(1, b, 1).Narrow(0, lengths[b], 5 - lengths[b]).ToArray(), v => Assert.Equal(0.0, v));
            for (int slot = 0; slot < batched.FinalStates.Count; slot++)
                for (int k = 0; k < alone.FinalStates[slot].Count; k++)
                    Close(alone.FinalStates[slot][k], batched.FinalStates[slot][k].Narrow(0, b, 1), $"final state {slot}.{k} of sequence {b}");
        }
    }

    [Fact]
    public void ZeroLengthSequenceKeepsItsInitialStateAndOutputsZeros()
    {
        var layer = RecurrentLayer.Lstm<double>(2, 3, new Rng(3), bidirectional: true);
        var x = Tensor.RandomNormal<double>(new Rng(4), [3, 2, 2]);
        var initial = layer.InitialStates(2).Select(s => s.Map(t => Tensor.Full(0.5, t.Shape.ToArray()))).ToArray();
        var result = layer.Forward(x, new SequenceOptions<double> { Lengths = [3, 0], InitialStates = initial });
        Assert.All(result.Output.Narrow(1, 1, 1).ToArray(), v => Assert.Equal(0.0, v));
        foreach (var state in result.FinalStates)
            foreach (var t in state.Tensors) Assert.All(t.Narrow(0, 1, 1).ToArray(), v => Assert.Equal(0.5, v));
    }

    [Fact]
    public void MaskHolesCarryTheStateAndOutputZero()
    {
        var cell = new GruCell<double>(2, 3, new Rng(5));
        var x = Tensor.RandomNormal<double>(new Rng(6), [6, 2, 2]);
        var mask = Tensor.FromArray<double>([1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1], 6, 2);
        foreach (bool reverse in new[] { false, true })
        {
            var result = Unroll.Run(cell, x, new UnrollOptions<double> { Mask = mask, Reverse = reverse });
            for (int t = 0; t < 6; t++)
                for (int b = 0; b < 2; b++)
                {
                    if (mask[t, b] != 0) continue;
                    int previous = reverse ? t + 1 : t - 1;
                    var before = previous is < 0 or >= 6 ? Tensor.Zeros<double>(1, 3) : result.States[previous]["h"].Narrow(0, b, 1);
                    Assert.Equal(before.ToArray(), result.States[t]["h"].Narrow(0, b, 1).ToArray());
                    Assert.All(result.Output.Narrow(0, t, 1).Narrow(1, b, 1).ToArray(), v => Assert.Equal(0.0, v));
                }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReversePassIsTheForwardPassOverTheReversedSequence(string kindName)
    {
        var cell = CellZoo.Get(kindName).Make(2, 3, new Rng(7));
        var x = Tensor.RandomNormal<double>(new Rng(8), [7, 2, 2]);
        Tensor<double> Flip(Tensor<double> s) => Tensor.Concat(0, Enumerable.Range(0, s.Shape[0]).Reverse().Select(t => s.Narrow(0, t, 1)).ToArray());
        var reverse = Unroll.Run(cell, x, new UnrollOptions<double> { Reverse = true });
        var forward = Unroll.Run(cell, Flip(x));
        Close(Flip(forward.Output), reverse.Output, "reverse output");
        Close(forward.FinalState[0], reverse.FinalState[0], "final h");
        Close(forward.States[6 - 2][0], reverse.States[2][0], "state after t = 2");
    }

    [Fact]
    public void BidirectionalResidualStackIsComposedAsDocumented()
    {
        var layer = RecurrentLayer.Gru<double>(2, 3, new Rng(9), numLayers: 3, bidirectional: true, residual: true);
        var x = Tensor.RandomNormal<double>(new Rng(10), [4, 2, 2]);
        var result = layer.Forward(x);

        var input = x;
        for (int l = 0; l < 3; l++)
        {
            var forward = Unroll.Run(layer.Cell(l, 0), input);
            var backward = Unroll.Run(layer.Cell(l, 1), input, new UnrollOptions<double> { Reverse = true });
            var expected = Tensor.Concat(-1, forward.Output, backward.Output);
            if (l > 0) expected += input; // skip connections between layers, not around the first
            Close(expected, result.LayerOutputs[l], $"layer {l} output");
            Close(forward.FinalState[0], result.FinalState(l, 0)[0], $"layer {l} forward h_n");
            Close(backward.FinalState[0], result.FinalState(l, 1)[0], $"layer {l} reverse h_n");
            input = expected;
        }
        Close(input, result.Output, "output");
        Assert.Equal([4, 2, 6], result.Output.Shape);
    }

    [Fact]
    public void FinalStatesStackLikePyTorchsHn()
    {
        var layer = RecurrentLayer.Lstm<double>(2, 3, new Rng(11), numLayers: 2, bidirectional: true);
        var result = layer.Forward(Tensor.RandomNormal<double>(new Rng(12), [3, 5, 2]));
        var hn = result.Final("h");
        var cn = result.Final("c");
        Assert.Equal([4, 5, 3], hn.Shape);
        Assert.Equal([4, 5, 3], cn.Shape);
        Close(result.FinalState(1, 1)["c"], cn.Select(0, 3), "c_n[layer 1, reverse]");
        Close(result.FinalState(1, 0)["h"], hn.Select(0, 2), "h_n[layer 1, forward]");
        // Forward final h is the last time step of the forward half of the output; reverse final h is the first step of the reverse half.
        Close(result.Output.Select(0, 2).Narrow(-1, 0, 3), hn.Select(0, 2), "forward h_n vs output");
        Close(result.Output.Select(0, 0).Narrow(-1, 3, 3), hn.Select(0, 3), "reverse h_n vs output");
    }

    [Fact]
    public void RetainedStateGradientsEqualTheGradientOfTheRemainingSequence()
    {
        // dL/dh_t, dL/dc_t kept by RetainGrad must equal the gradient with respect to a fresh leaf state from which the
        // rest of the sequence is run: the independent definition of "how much the loss depends on the state at t".
        var layer = RecurrentLayer.Lstm<double>(2, 3, new Rng(13));
        var x = Tensor.RandomNormal<double>(new Rng(14), [12, 2, 2]);
        var u = Tensor.RandomNormal<double>(new Rng(15), [2, 3]);
        Tape.Current.Reset();
        var result = layer.Forward(x, new SequenceOptions<double> { RetainStateGradients = true });
        (u * result.FinalState(0)["h"]).Sum().Backward();

        const int t = 4;
        var retained = result.Steps(0)[t];
        var leaf = retained.Map(s => s.Clone().RequireGrad());
        var tail = layer.Forward(x.Narrow(0, t + 1, 12 - t - 1), new SequenceOptions<double> { InitialStates = [leaf] });
        (u * tail.FinalState(0)["h"]).Sum().Backward();
        Close(leaf["h"].Grad!, retained["h"].Grad!, "dL/dh_4");
        // The retained dL/dc_t is the total derivative: besides the path into the tail (the leaf c), c_t also reaches the
        // loss through h_t = o_t * tanh(c_t), which the tail run sees as the separate leaf h.
        var cell = layer.Cell(0);
        var gates = (x.Select(0, t).Linear(cell.Parameters["weight_ih"], cell.Parameters["bias_ih"])
                     + result.Steps(0)[t - 1]["h"].Linear(cell.Parameters["weight_hh"], cell.Parameters["bias_hh"])).Chunk(4);
        var o = gates[3].Sigmoid();
        var throughH = retained["h"].Grad! * o * (1.0 - retained["c"].Tanh().Square());
        Close(leaf["c"].Grad! + throughH, retained["c"].Grad!, "dL/dc_4");
        Assert.All(result.Steps(0), s => Assert.NotNull(s["h"].Grad));
    }

    [Fact]
    public void BadInputsAreReportedWithShapes()
    {
        var layer = RecurrentLayer.Lstm<double>(3, 4, new Rng(16), numLayers: 2);
        var x = Tensor.Zeros<double>(5, 2, 3);

        var e = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros<double>(5, 2, 4)));
        Assert.Contains("[5, 2, 4]", e.Message);
        Assert.Contains("[T, B, 3]", e.Message);

        e = Assert.Throws<ArgumentException>(() => layer.Forward(x, new SequenceOptions<double> { Lengths = [5] }));
        Assert.Contains("1 lengths", e.Message);

        var range = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(x, new SequenceOptions<double> { Lengths = [5, 6] }));
        Assert.Contains("lengths[1] = 6", range.Message);

        e = Assert.Throws<ArgumentException>(() => layer.Forward(x, new SequenceOptions<double> { Lengths = [5, 5], Mask = Tensor.Ones<double>(5, 2) }));
        Assert.Contains("either", e.Message);

        e = Assert.Throws<ArgumentException>(() => layer.Forward(x, new SequenceOptions<double> { Mask = Tensor.Ones<double>(2, 5) }));
        Assert.Contains("[2, 5]", e.Message);

        e = Assert.Throws<ArgumentException>(() => layer.Forward(x, new SequenceOptions<double> { InitialStates = layer.InitialStates(2).Take(1).ToArray() }));
        Assert.Contains("1 initial states", e.Message);

        e = Assert.Throws<ArgumentException>(() => layer.Forward(x, new SequenceOptions<double> { InitialStates = layer.InitialStates(3) }));
        Assert.Contains("[2, 4]", e.Message);
        Assert.Contains("[3, 4]", e.Message);

        e = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros<double>(0, 2, 3)));
        Assert.Contains("T, B >= 1", e.Message);

        e = Assert.Throws<ArgumentException>(() => new LstmCell<double>(3, 4, new Rng(1)).Next(Tensor.Zeros<double>(2, 2), new LstmCell<double>(3, 4, new Rng(1)).InitialState(2)));
        Assert.Contains("[B, 3]", e.Message);
    }
}
