using AutoDiffLstm.Recurrent;
using static AutoDiffLstm.Tests.Compile.CompiledStepTests;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// Forward mode through compiled steps: a fused group pushes tangents in one pass over its program, each instruction
/// through its primitive's declared derivative. Compared with the interpreted step, whose tangents come from each
/// primitive's own JVP rule, for every registered cell and a CustomCell, with tangents on everything and on part only.
/// </summary>
public class CompiledForwardModeTests
{
    public static TheoryData<string> CellsAndCustom() => [.. CellRegistry.Names, "mgu-custom"];

    [Theory]
    [MemberData(nameof(CellsAndCustom))]
    public void TheCompiledJvpEqualsTheInterpretedOne(string cell)
    {
        var (layer, x) = Setup(cell, stacked: false);
        var primals = layer.NamedParameters().Select(p => p.Value).Append(x).ToArray();
        var rng = new Rng(41);
        var everything = primals.Select(p => Tensor.RandomNormal<double>(rng, [.. p.Shape])).ToArray();
        // Only the input moves: the parameters' zero tangents leave fused slots unreached, which must read as zero.
        var inputOnly = primals.Select((p, i) => i == primals.Length - 1 ? everything[i] : Tensor.Zeros<double>([.. p.Shape])).ToArray();
        foreach (var (name, v) in new[] { ("all tangents", everything), ("input tangent only", inputOnly) })
        {
            var interpreted = Jvp(layer, primals, v, compile: false);
            var compiled = Jvp(layer, primals, v, compile: true);
            AssertClose(interpreted.Output, compiled.Output, 0, $"{cell} output");
            AssertClose(interpreted.Tangent, compiled.Tangent, 1e-12, $"{cell} {name} tangent");
            Assert.Contains(compiled.Tangent, t => t != 0); // the comparison is not of two zero vectors
        }
    }

    [Fact]
    public void AStackedBidirectionalCompiledLstmPassesTheDotProductTest()
    {
        // <J v, u> = <v, J^T u>: the compiled tangent pass against the compiled backward pass, independent of the interpreted path.
        var (layer, x) = Setup("lstm", stacked: true);
        var primals = layer.NamedParameters().Select(p => p.Value).Append(x).ToArray();
        var rng = new Rng(43);
        var v = primals.Select(p => Tensor.RandomNormal<double>(rng, [.. p.Shape])).ToArray();
        var (y, jv) = Autograd.Jvp(p => Forward(layer, p, compile: true), primals, v);
        var u = Tensor.RandomNormal<double>(rng, [.. y.Shape]);
        var (_, jtu) = Autograd.Vjp(p => Forward(layer, p, compile: true), primals, u);
        double left = (jv * u).Sum().Item(), right = v.Zip(jtu, (a, b) => (a * b).Sum().Item()).Sum();
        Assert.Equal(left, right, 1e-10 * (1 + Math.Abs(left)));
    }

    [Fact]
    public void TheCompiledJvpOfAThousandStepLstmMatchesCentralDifferences()
    {
        var (layer, _) = Setup("lstm", stacked: false);
        var x = Tensor.RandomNormal<double>(new Rng(44), [1000, 1, 2], std: 0.5);
        var objective = new RecurrentObjective<double>(layer, x);
        Assert.Null(layer.Cell(0, 0).CompiledStep.FallbackReason(layer.Cell(0, 0).StepInputShapes(1)));
        var report = GradCheck.CheckJvp<double>(objective.Evaluate, objective.Inputs, new GradCheckOptions { Directions = 1 });
        Assert.True(report.Passed, report.ToString());
    }

    private static (RecurrentLayer<double> Layer, Tensor<double> X) Setup(string cell, bool stacked)
    {
        const int input = 2, hidden = 4;
        var rng = new Rng(40);
        var layer = new RecurrentLayer<double>((i, r) => cell == "mgu-custom" ? Mgu(i, hidden, r) : CellRegistry.Create<double>(cell, i, hidden, r),
            input, rng.Fork(), stacked ? 2 : 1, bidirectional: stacked, residual: false);
        return (layer, Tensor.RandomNormal<double>(rng, [7, 3, input], std: 0.5));
    }

    private static Tensor<double> Forward(RecurrentLayer<double> layer, Tensor<double>[] p, bool compile) =>
        layer.WithParameters(layer.NamedParameters().Select((kv, i) => new KeyValuePair<string, Tensor<double>>(kv.Key, p[i])))
            .Forward(p[^1], new SequenceOptions<double> { Compile = compile }).Output;

    private static (double[] Output, double[] Tangent) Jvp(RecurrentLayer<double> layer, Tensor<double>[] primals, Tensor<double>[] v, bool compile)
    {
        var (y, t) = Autograd.Jvp(p => Forward(layer, p, compile), primals, v);
        return (y.ToArray(), t.ToArray());
    }
}
