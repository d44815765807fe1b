using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.IO;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>The one registry of cells: what it reads from the cells, what the command line's catalogue shows, and run-time registration.</summary>
public class CellRegistryTests
{
    [Fact]
    public void NamesAreUniqueAndTheCatalogueShowsTheRegistry()
    {
        var names = CellRegistry.Names;
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        foreach (var n in new[] { "rnn", "lstm", "gru", "lstm-cifg", "mingru", "minlstm", "indrnn", "janet" }) Assert.Contains(n, names);
        Assert.Equal(names, CellCatalog.Names.Take(names.Count));
        Assert.Equal(CellRegistry.Find("mingru").Description, CellCatalog.Describe("MinGRU"));
    }

    [Fact]
    public void StateNamesAndParallelFormAreReadFromTheCells()
    {
        Assert.Equal(["h", "c"], CellRegistry.Find("lstm").StateNames);
        Assert.Equal(["h", "c", "gates"], CellRegistry.Find("lstm-fgr").StateNames);
        Assert.Equal(["mingru", "minlstm"], CellRegistry.All.Where(i => i.HasParallelForm).Select(i => i.Name));
        Assert.Equal("rnn_relu", CellRegistry.Find("irnn").Kind);
        foreach (var info in CellRegistry.All.Where(i => i.BuiltIn))
        {
            var cell = CellRegistry.Create<float>(info.Name, 3, 4, new Rng(1));
            Assert.Equal(info.Kind, cell.Kind);
            Assert.Equal(info.StateNames, cell.StateNames);
        }
    }

    [Fact]
    public void EveryBuiltInCellIsInTheZooAndHasReferenceEquations()
    {
        foreach (var info in CellRegistry.All.Where(i => i.BuiltIn))
        {
            string zooName = CellZoo.ZooName(info);
            var kind = CellZoo.Get(zooName);
            var cell = kind.Make(2, 3, new Rng(2));
            var state = cell.InitialState(1);
            Assert.Equal(cell.StateNames.Count, ReferenceCells.Step(zooName, cell, [0.5, -0.25], state.Tensors.Select(t => t.ToArray()).ToArray()).Length);
        }
    }

    [Fact]
    public void ARegisteredCustomCellCanBeCreatedByNameAndBuildsLayers()
    {
        string name = "test-mgu-" + Guid.NewGuid().ToString("N")[..8];
        var info = CellRegistry.Register(name, "minimal gated unit (Zhou et al. 2016), registered by a test", (i, h, r, _) => CellZoo.Mgu(i, h, r));
        Assert.False(info.BuiltIn);
        Assert.Equal(["h"], info.StateNames);
        Assert.Contains(name, CellCatalog.Names);
        var layer = CellCatalog.Layer<double>(name, 3, 5, new Rng(3), layers: 2);
        Assert.Equal("mgu", layer.Cell(1).Kind);
        var y = layer.Forward(Tensor.RandomNormal<double>(new Rng(4), [6, 2, 3])).Output;
        Assert.Equal([6, 2, 5], y.Shape);

        var again = Assert.Throws<ArgumentException>(() => CellRegistry.Register(name, "again", (i, h, r, _) => CellZoo.Mgu(i, h, r)));
        Assert.Contains("already registered", again.Message);
        var noFloat = Assert.Throws<ArgumentException>(() => CellRegistry.Create<float>(name, 3, 5, new Rng(3)));
        Assert.Contains("Single", noFloat.Message);
    }

    [Fact]
    public void BadNamesAndMisplacedForgetBiasesGetClearErrors()
    {
        var unknown = Assert.Throws<ArgumentException>(() => CellRegistry.Find("mingruu"));
        Assert.Contains("Unknown cell 'mingruu'", unknown.Message);
        Assert.Contains("minlstm", unknown.Message);
        Assert.Throws<ArgumentException>(() => CellRegistry.Register("Bad Name", "x", (i, h, r, _) => CellZoo.Mgu(i, h, r)));
        var bias = Assert.Throws<ArgumentException>(() => CellRegistry.Create<double>("mingru", 2, 2, new Rng(1), forgetBias: 1));
        Assert.Contains("'mingru'", bias.Message);
        Assert.Equal(new LstmCell<double>(2, 2, new Rng(1), forgetBias: 1).Parameters["bias_ih"].ToArray(),
            CellRegistry.Create<double>("lstm", 2, 2, new Rng(1), forgetBias: 1).Parameters["bias_ih"].ToArray());
        Assert.NotEqual(new LstmCell<double>(2, 2, new Rng(1)).Parameters["bias_ih"].ToArray(),
            CellRegistry.Create<double>("lstm", 2, 2, new Rng(1), forgetBias: 1).Parameters["bias_ih"].ToArray());
    }

    public static TheoryData<string> BuiltInNames()
    {
        var data = new TheoryData<string>();
        foreach (var info in CellRegistry.All.Where(i => i.BuiltIn)) data.Add(info.Name);
        return data;
    }

    /// <summary>Every registered cell's layer goes through a safetensors file under PyTorch-style names and comes back computing the same outputs.</summary>
    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void WeightsRoundTripThroughSafetensors(string name)
    {
        var source = CellCatalog.Layer<float>(name, 3, 4, new Rng(1), layers: 2);
        var target = CellCatalog.Layer<float>(name, 3, 4, new Rng(2), layers: 2);
        string path = Path.Combine(Path.GetTempPath(), $"adl-{name}-{Guid.NewGuid():N}.safetensors");
        try
        {
            Safetensors.Save(path, source.NamedParameters().Select(p => new KeyValuePair<string, TensorBase>(p.Key, p.Value)));
            Safetensors.LoadInto(path, target.NamedParameters().Select(p => new KeyValuePair<string, TensorBase>(p.Key, p.Value)));
        }
        finally { File.Delete(path); }
        Assert.All(source.NamedParameters(), p => Assert.Matches(@"^(weight|bias)_[a-z]+_l[01]$", p.Key));
        var x = Tensor.RandomNormal<float>(new Rng(3), [300, 2, 3]);
        using var _ = Autograd.NoGrad();
        Assert.Equal(source.Forward(x).Output.ToArray(), target.Forward(x).Output.ToArray());
    }
}
