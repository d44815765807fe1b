using AutoDiffLstm.IO;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>RecurrentLayer.Save / LoadInto: a PyTorch-named state dict in safetensors, written atomically, loaded all or nothing.</summary>
public sealed class RecurrentLayerStateDictTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("adl-statedict-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void ARoundTripRestoresEveryParameterAndTheOutputs()
    {
        string path = Path.Combine(folder, "lstm.safetensors");
        var saved = RecurrentLayer.Lstm<float>(3, 4, new Rng(1), numLayers: 2, bidirectional: true);
        saved.Save(path);

        var loaded = RecurrentLayer.Lstm<float>(3, 4, new Rng(99), numLayers: 2, bidirectional: true);
        Assert.NotEqual(saved.NamedParameters()[0].Value.ToArray(), loaded.NamedParameters()[0].Value.ToArray());
        loaded.LoadInto(path);

        Assert.Equal(saved.NamedParameters().Select(p => p.Key), loaded.NamedParameters().Select(p => p.Key));
        foreach (var ((name, a), (_, b)) in saved.NamedParameters().Zip(loaded.NamedParameters()))
            Assert.True(a.ToArray().SequenceEqual(b.ToArray()), $"{name} differs after the round trip");
        var x = Tensor.RandomNormal<float>(new Rng(2), [5, 2, 3]);
        Assert.Equal(saved.Forward(x).Output.ToArray(), loaded.Forward(x).Output.ToArray());
    }

    [Fact]
    public void TheFileHoldsPyTorchNamesAndTheArchitecture()
    {
        string path = Path.Combine(folder, "gru.safetensors");
        var layer = RecurrentLayer.Gru<double>(2, 3, new Rng(1), numLayers: 2);
        layer.Save(path);
        var contents = Safetensors.Load(path);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"],
            contents.Tensors.Select(t => t.Key));
        Assert.Equal("pt", contents.Metadata["format"]);
        Assert.Equal("2", contents.Metadata["num_layers"]);
        Assert.Equal("false", contents.Metadata["bidirectional"]);
        Assert.Equal([path], Directory.GetFiles(folder)); // no temporary file left behind
    }

    [Fact]
    public void AMismatchedFileChangesNothingAndSaysWhy()
    {
        string path = Path.Combine(folder, "small.safetensors");
        RecurrentLayer.Lstm<double>(3, 4, new Rng(1)).Save(path);
        var wider = RecurrentLayer.Lstm<double>(3, 5, new Rng(2));
        var before = wider.NamedParameters().Select(p => p.Value.ToArray()).ToArray();

        var e = Assert.Throws<SafetensorsException>(() => wider.LoadInto(path));
        Assert.IsAssignableFrom<IOException>(e); // as its documentation says; not an InvalidDataException
        Assert.Contains("weight_ih_l0", e.Message);
        Assert.Contains("[16, 3]", e.Message);
        Assert.Contains("[20, 3]", e.Message);
        Assert.Equal(before, wider.NamedParameters().Select(p => p.Value.ToArray()).ToArray());

        var deeper = RecurrentLayer.Lstm<double>(3, 4, new Rng(2), numLayers: 2);
        var missing = Assert.Throws<SafetensorsException>(() => deeper.LoadInto(path));
        Assert.Contains("weight_ih_l1", missing.Message);

        var single = RecurrentLayer.Lstm<float>(3, 4, new Rng(2));
        var dtype = Assert.Throws<SafetensorsException>(() => single.LoadInto(path));
        Assert.Contains("F64", dtype.Message);
    }
}
