using AutoDiffLstm.IO;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.IO;

/// <summary>Recurrent layers' weights through safetensors files under PyTorch's names: the way weights move to and from PyTorch.</summary>
public sealed class LayerWeightsRoundTripTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("adl-weights-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static IEnumerable<KeyValuePair<string, TensorBase>> AsBase<T>(IEnumerable<KeyValuePair<string, Tensor<T>>> named)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => named.Select(p => new KeyValuePair<string, TensorBase>(p.Key, p.Value));

    [Fact]
    public void SavedLstmLoadsIntoAFreshLayerAndReproducesItsOutputsExactly()
    {
        var source = RecurrentLayer.Lstm<float>(3, 5, new Rng(1), numLayers: 2, bidirectional: true);
        var target = RecurrentLayer.Lstm<float>(3, 5, new Rng(2), numLayers: 2, bidirectional: true);
        string path = Path.Combine(dir, "lstm.safetensors");
        Safetensors.Save(path, AsBase(source.NamedParameters()));
        Safetensors.LoadInto(path, AsBase(target.NamedParameters()));

        var x = Tensor.RandomNormal<float>(new Rng(3), [7, 2, 3]);
        using var _ = Autograd.NoGrad();
        Assert.Equal(source.Forward(x).Output.ToArray(), target.Forward(x).Output.ToArray());
    }

    [Fact]
    public void FileUsesPyTorchNamesShapesAndOrder()
    {
        var layer = RecurrentLayer.Gru<double>(4, 6, new Rng(1), numLayers: 2, bidirectional: true);
        string path = Path.Combine(dir, "gru.safetensors");
        Safetensors.Save(path, AsBase(layer.NamedParameters()));
        var contents = Safetensors.Load(path);
        string[] expected =
        [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        ];
        Assert.Equal(expected.Order(), contents.Names.Order());
        Assert.Equal([18, 4], contents.Get<double>("weight_ih_l0").Shape);    // 3H x I, gates r, z, n
        Assert.Equal([18, 12], contents.Get<double>("weight_ih_l1").Shape);   // layer 1 reads both directions: 2H
        Assert.Equal([18, 6], contents.Get<double>("weight_hh_l1_reverse").Shape);
    }

    [Fact]
    public void LoadingAnotherArchitectureFailsNamingTheTensorAndChangesNothing()
    {
        string path = Path.Combine(dir, "gru.safetensors");
        Safetensors.Save(path, AsBase(RecurrentLayer.Gru<float>(3, 5, new Rng(1)).NamedParameters()));
        var lstm = RecurrentLayer.Lstm<float>(3, 5, new Rng(2));
        var before = lstm.NamedParameters().Select(p => p.Value.ToArray()).ToArray();

        var error = Assert.ThrowsAny<Exception>(() => Safetensors.LoadInto(path, AsBase(lstm.NamedParameters())));
        Assert.Contains("weight_ih_l0", error.Message);
        Assert.Contains("[20, 3]", error.Message);   // what the LSTM expects (4H x I)
        Assert.Contains("[15, 3]", error.Message);   // what the GRU file holds (3H x I)
        Assert.Equal(before, lstm.NamedParameters().Select(p => p.Value.ToArray()).ToArray());
    }
}
