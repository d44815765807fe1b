using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>The one-call gradient check that researchers use on their own layers.</summary>
public class RecurrentGradCheckTests
{
    private static RecurrentLayer<double> Layer() => RecurrentLayer.Lstm<double>(2, 3, new Rng(1), numLayers: 2, bidirectional: true, forgetBias: 1.0);

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ChecksEveryParameterTheInputAndTheInitialStates(int detachEvery)
    {
        var layer = Layer();
        var rng = new Rng(2);
        var x = Tensor.RandomNormal<double>(rng, [7, 2, 2]);
        var initial = layer.InitialStates(2).Select(s => s.Map(t => Tensor.RandomNormal<double>(rng, t.Shape.ToArray()))).ToArray();
        var options = new SequenceOptions<double> { Lengths = [7, 4], InitialStates = initial, DetachEvery = detachEvery };

        var report = RecurrentGradCheck.Check(layer, x, options, new GradCheckOptions { Mode = GradCheckMode.FullJacobian });

        Assert.True(report.Passed, report.ToString());
        var objective = new RecurrentObjective<double>(layer, x, options);
        Assert.Equal(objective.Inputs.Sum(t => t.Size), report.Compared);
        Assert.Equal(layer.NamedParameters().Select(p => p.Key).Append("x")
            .Concat(["h0_l0", "c0_l0", "h0_l0_reverse", "c0_l0_reverse", "h0_l1", "c0_l1", "h0_l1_reverse", "c0_l1_reverse"]), objective.InputNames);
    }

    [Fact]
    public void TruncatedObjectiveEqualsTheRunAtTheBasePointButNotItsGradient()
    {
        var layer = Layer();
        var x = Tensor.RandomNormal<double>(new Rng(3), [9, 1, 2]);
        var objective = new RecurrentObjective<double>(layer, x, new SequenceOptions<double> { DetachEvery = 3 });
        Assert.Equal(objective.Evaluate(objective.Inputs).Item(), objective.TruncatedObjective(objective.Inputs).Item(), 12);
        // Finite differences of the run itself measure the full gradient, which truncation does not compute.
        var naive = GradCheck.Check<double>(objective.Evaluate, objective.Inputs, new GradCheckOptions { Mode = GradCheckMode.Directional });
        Assert.False(naive.Passed, "comparing truncated gradients with differences of the untruncated function must fail");
    }

    [Fact]
    public void CatchesAGradientCutInsideACustomCell()
    {
        // A researcher's slip: the recurrent input is detached, so backward misses every path through h_{t-1}.
        RecurrentCell<double> Leaky(int input, Rng rng) => new CustomCell<double>("cut", input, 3, ["h"],
            new Dictionary<string, int[]> { ["weight_ih"] = [3, input], ["weight_hh"] = [3, 3] },
            step: (x, s, p) => [(x.Linear(p["weight_ih"]) + s["h"].Detach().Linear(p["weight_hh"])).Tanh()], rng: rng);
        var layer = new RecurrentLayer<double>(Leaky, 2, new Rng(4));
        var report = RecurrentGradCheck.Check(layer, Tensor.RandomNormal<double>(new Rng(5), [5, 2, 2]));
        Assert.False(report.Passed, report.ToString());
    }
}
