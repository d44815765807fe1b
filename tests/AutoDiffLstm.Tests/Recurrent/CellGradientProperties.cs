using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Property: for every built-in cell and the custom MGU cell, in random stacks (1-2 layers, uni- or bidirectional,
/// residual or not, padded by lengths or by a mask or not, truncated or not, zero or given initial states) over random
/// horizons, the gradients of a random linear functional of all outputs and all final states with respect to every
/// parameter, the inputs and the initial states match central differences. Failing cases shrink to the smallest horizon
/// and sizes.
/// </summary>
public class CellGradientProperties
{
    private const int CasesPerCell = 24;

    // Beyond this many (input elements x unrolled steps) a full Jacobian costs too much; random directions are used.
    private const int FullJacobianBudget = 8_000;

    public static TheoryData<string> Kinds() => CellZoo.Names();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GradientsMatchFiniteDifferences(string kindName)
    {
        var kind = CellZoo.Get(kindName);
        // ReLU cells do not saturate: at long horizons large weights overflow, so their long cases stay contractive.
        var cases = RecurrentCases.Arbitrary(maxLongScale: kind.PiecewiseLinear ? 0.6 : 3.0);
        RecurrentCases.Check(kindName, cases, CasesPerCell, c => CheckCase(kind, c));
    }

    internal static void CheckCase(CellKind kind, RecurrentCase c)
    {
        var harness = new LayerGradientHarness(kind, c);
        bool full = (long)harness.InputElementCount * harness.UnrolledSteps <= FullJacobianBudget;
        var options = new GradCheckOptions
        {
            Mode = full ? GradCheckMode.FullJacobian : GradCheckMode.Directional,
            Directions = 6,
            AbsoluteTolerance = harness.AbsoluteTolerance,
        };
        if (c.DetachEvery == 0)
        {
            var report = GradCheck.Check<double>(harness.Objective.Evaluate, harness.BaseInputs, options);
            Assert.True(report.Passed, report.ToString());
            if (full) Assert.Equal(harness.InputElementCount, report.Compared); // every element of every input was compared
            return;
        }

        // Truncated BPTT: the reference is the truncated objective G (see RecurrentObjective.TruncatedObjective).
        // 1) G's engine gradient matches its central differences; 2) the truncated run's gradient equals G's gradient.
        var objective = harness.Objective;
        var referenceReport = GradCheck.Check<double>(objective.TruncatedObjective, harness.BaseInputs, options);
        Assert.True(referenceReport.Passed, "truncated objective: " + referenceReport);
        var truncated = harness.Gradients(objective.Evaluate, out double truncatedValue);
        var reference = harness.Gradients(objective.TruncatedObjective, out double referenceValue);
        Assert.True(Math.Abs(truncatedValue - referenceValue) <= 1e-10 * (1 + Math.Abs(referenceValue)),
            $"the truncated objective's value {referenceValue} differs from the run's {truncatedValue}: the frozen boundary states are wrong");
        for (int k = 0; k < truncated.Length; k++)
            for (int i = 0; i < truncated[k].Length; i++)
                Assert.True(Math.Abs(truncated[k][i] - reference[k][i]) <= 1e-9 * (1 + Math.Abs(reference[k][i])),
                    $"input {k}[{i}]: truncated BPTT gives {truncated[k][i]}, the truncated objective's gradient is {reference[k][i]}");
    }
}
