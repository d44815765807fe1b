using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Truncated BPTT cuts gradients exactly at the chunk boundaries and nowhere else, and leaves the values alone. (The
/// gradient property in <see cref="CellGradientProperties"/> checks truncated gradients against central differences
/// of the truncated objective.)
/// </summary>
public class TruncatedBpttTests
{
    /// <summary>dL/dx where L = sum(weights * output at time <paramref name="t"/>), per input time step (summed |.|).</summary>
    private static double[] InputSensitivity(RecurrentLayer<double> layer, Tensor<double> x, int t, int detachEvery, out double[] output)
    {
        Tape.Current.Reset();
        var leaf = x.Clone().RequireGrad();
        var result = layer.Forward(leaf, new SequenceOptions<double> { DetachEvery = detachEvery });
        output = result.Output.ToArray();
        result.Output.Select(0, t).Sum().Backward();
        var g = leaf.Grad!;
        return Enumerable.Range(0, x.Shape[0]).Select(s => g.Select(0, s).ToArray().Sum(Math.Abs)).ToArray();
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("lstm_fgr")]
    [InlineData("mgu")]
    public void GradientsReachBackOnlyToTheStartOfTheChunk(string kindName)
    {
        var kind = CellZoo.Get(kindName);
        var layer = new RecurrentLayer<double>((i, r) => kind.Make(i, 3, r), 2, new Rng(1), numLayers: 2);
        var x = Tensor.RandomNormal<double>(new Rng(2), [9, 2, 2]);
        const int t = 7; // in chunk [6, 9) for k = 3

        var full = InputSensitivity(layer, x, t, 0, out var fullOutput);
        var truncated = InputSensitivity(layer, x, t, 3, out var truncatedOutput);

        Assert.Equal(fullOutput, truncatedOutput); // same forward values
        for (int s = 0; s <= t; s++) Assert.True(full[s] > 0, $"without truncation x_{s} must influence h_{t}");
        for (int s = 0; s < 6; s++) Assert.Equal(0.0, truncated[s]);
        for (int s = 6; s <= t; s++) Assert.Equal(full[s] == 0 ? 0 : 1, truncated[s] == 0 ? 0 : 1);
        Assert.Equal(0.0, truncated[8]); // the future never matters forward
    }

    [Fact]
    public void ReverseDirectionIsCutAtTheSameTimePositions()
    {
        var layer = RecurrentLayer.Gru<double>(2, 3, new Rng(3), bidirectional: true);
        var x = Tensor.RandomNormal<double>(new Rng(4), [9, 1, 2]);
        Tape.Current.Reset();
        var leaf = x.Clone().RequireGrad();
        var result = layer.Forward(leaf, new SequenceOptions<double> { DetachEvery = 3 });
        // The reverse half of the output at t = 4 (chunk [3, 6)) depends on x_4, x_5 through gradients, not on x_6..x_8.
        result.Output.Select(0, 4).Narrow(-1, 3, 3).Sum().Backward();
        double At(int s) => leaf.Grad!.Select(0, s).ToArray().Sum(Math.Abs);
        Assert.True(At(4) > 0 && At(5) > 0);
        for (int s = 6; s < 9; s++) Assert.Equal(0.0, At(s));
        for (int s = 0; s < 4; s++) Assert.Equal(0.0, At(s));
    }

    [Fact]
    public void NegativeTruncationIsRejected()
    {
        var layer = RecurrentLayer.Gru<double>(2, 3, new Rng(5));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(Tensor.Zeros<double>(3, 1, 2), new SequenceOptions<double> { DetachEvery = -1 }));
        Assert.Contains("DetachEvery", e.Message);
    }
}
