using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>A cell's WithParameters twin runs the traced programs of the cell it came from, over its own parameters.</summary>
public class CompiledTwinTests
{
    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("slstm")]
    public void ATwinReusesTheProgramWithItsOwnParameters(string kind)
    {
        var cell = CellRegistry.Create<double>(kind, 2, 4, new Rng(60));
        var x = Tensor.RandomNormal<double>(new Rng(61), [5, 3, 2]);
        var compiledOptions = new UnrollOptions<double> { Compile = true };
        Unroll.Run(cell, x, compiledOptions);
        var traced = cell.CompiledStep.Traced.Single(t => t.Program is not null);

        var rng = new Rng(62);
        var twin = cell.WithParameters(cell.NamedParameters().Select(p => new KeyValuePair<string, Tensor<double>>(p.Key, Tensor.RandomNormal<double>(rng, [.. p.Value.Shape]))));
        var compiled = Unroll.Run(twin, x, compiledOptions).Output.ToArray();
        var interpreted = Unroll.Run(twin, x, new UnrollOptions<double> { Compile = false }).Output.ToArray();
        Assert.Equal(interpreted, compiled);
        Assert.NotEqual(Unroll.Run(cell, x, compiledOptions).Output.ToArray(), compiled); // the twin's parameters were used, not the original's
        Assert.Same(traced.Program, twin.CompiledStep.Traced.Single(t => t.Program is not null).Program);
    }

    [Fact]
    public void AStepThatCapturesATensorOtherThanItsParametersIsNotShared()
    {
        var scale = Tensor.RandomNormal<double>(new Rng(63), [4]);
        var cell = new CustomCell<double>("scaled", 2, 4, ["h"], new Dictionary<string, int[]> { ["w"] = [4, 4] },
            (x, s, p) => [(s["h"].Linear(p["w"]) * scale + x.Narrow(1, 0, 1)).Tanh()], new Rng(64));
        var x = Tensor.RandomNormal<double>(new Rng(65), [4, 2, 2]);
        Unroll.Run(cell, x, new UnrollOptions<double> { Compile = true });
        var twin = cell.WithParameters(cell.NamedParameters());
        Unroll.Run(twin, x, new UnrollOptions<double> { Compile = true });
        Assert.Single(cell.CompiledStep.Traced);
        Assert.Single(twin.CompiledStep.Traced);
        Assert.NotSame(cell.CompiledStep.Traced[0].Program, twin.CompiledStep.Traced[0].Program);
    }
}
