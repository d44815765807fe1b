namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Gradients through 1,000 time steps, for every cell: the budgeted long case (one sequence, one input, two units,
/// random directions), with a random linear functional of every output and of the final state as loss, the initial
/// state given, and gradients with respect to every parameter, every input and the initial state.
/// </summary>
public class LongHorizonTests
{
    public static TheoryData<string> Kinds() => CellZoo.Names();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GradientsThroughAThousandStepsMatchFiniteDifferences(string kindName)
    {
        var kind = CellZoo.Get(kindName);
        // ReLU cells do not saturate, so their weights stay small enough for the state to remain bounded over 1,000 steps.
        double scale = kind.PiecewiseLinear ? 0.5 : 1.5;
        var c = new RecurrentCase(Steps: 1000, Batch: 1, Input: 1, Hidden: 2, Layers: 1, Bidirectional: false, Residual: false,
            Padding: Padding.None, DetachEvery: 0, GivenInitialState: true, WeightScale: scale, ForgetBias: 1.0, Seed: 1000);
        var harness = new LayerGradientHarness(kind, c);
        var report = GradCheck.Check<double>(harness.Objective.Evaluate, harness.BaseInputs,
            new GradCheckOptions { Mode = GradCheckMode.Directional, Directions = 3, AbsoluteTolerance = harness.AbsoluteTolerance });
        Assert.True(report.Passed, report.ToString());
    }
}
