using System.Globalization;
using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// RecurrentGradCheck must be able to fail in float as well as in double: a cell whose step cuts a gradient path fails
/// in both precisions, correct cells pass in both, and the report says which tolerance it applied.
/// </summary>
public class RecurrentGradCheckPrecisionTests
{
    // A researcher's slip: the recurrent input is detached, so backward misses every path through h_{t-1}.
    private static RecurrentCell<T> Elman<T>(int input, Rng rng, bool cut) where T : unmanaged, IFloatingPointIeee754<T> =>
        new CustomCell<T>(cut ? "cut" : "elman", input, 3, ["h"],
            new Dictionary<string, int[]> { ["weight_ih"] = [3, input], ["weight_hh"] = [3, 3], ["bias"] = [3] },
            step: (x, s, p) => [(x.Linear(p["weight_ih"], p["bias"]) + (cut ? s["h"].Detach() : s["h"]).Linear(p["weight_hh"])).Tanh()], rng: rng);

    private static RecurrentLayer<T> Layer<T>(string kind) where T : unmanaged, IFloatingPointIeee754<T> => kind switch
    {
        "cut" => new RecurrentLayer<T>((i, r) => Elman<T>(i, r, cut: true), 2, new Rng(4)),
        "custom" => new RecurrentLayer<T>((i, r) => Elman<T>(i, r, cut: false), 2, new Rng(4)),
        "lstm" => RecurrentLayer.Lstm<T>(2, 4, new Rng(4), numLayers: 2, bidirectional: true, forgetBias: 1.0),
        "gru" => RecurrentLayer.Gru<T>(2, 4, new Rng(4), numLayers: 2),
        "rnn" => RecurrentLayer.Rnn<T>(2, 4, new Rng(4), bidirectional: true),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown test layer"),
    };

    private static GradCheckReport Check<T>(string kind, int steps, GradCheckMode mode) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Tensor.RandomNormal<T>(new Rng(5), [steps, 2, 2]);
        return RecurrentGradCheck.Check(Layer<T>(kind), x, check: new GradCheckOptions { Mode = mode, Directions = 6 });
    }

    [Theory]
    [InlineData(10, GradCheckMode.Directional)]
    [InlineData(40, GradCheckMode.Directional)]
    [InlineData(4, GradCheckMode.FullJacobian)]
    public void ACutGradientPathFailsInFloatAndInDouble(int steps, GradCheckMode mode)
    {
        var inFloat = Check<float>("cut", steps, mode);
        var inDouble = Check<double>("cut", steps, mode);
        Assert.False(inFloat.Passed, inFloat.ToString());
        Assert.False(inDouble.Passed, inDouble.ToString());
    }

    [Theory]
    [InlineData("custom", 10)]
    [InlineData("custom", 40)]
    [InlineData("lstm", 10)]
    [InlineData("lstm", 40)]
    [InlineData("gru", 40)]
    [InlineData("rnn", 40)]
    public void CorrectCellsPassInFloatAndInDouble(string kind, int steps)
    {
        var inFloat = Check<float>(kind, steps, GradCheckMode.Directional);
        var inDouble = Check<double>(kind, steps, GradCheckMode.Directional);
        Assert.True(inFloat.Passed, inFloat.ToString());
        Assert.True(inDouble.Passed, inDouble.ToString());
    }

    [Fact]
    public void CorrectCellsPassTheFullJacobianInFloat()
    {
        var report = Check<float>("custom", 4, GradCheckMode.FullJacobian);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void TheReportShowsTheToleranceItUsed()
    {
        var inFloat = Check<float>("lstm", 10, GradCheckMode.Directional);
        Assert.True(inFloat.Tolerance.EstimateNumericError);
        Assert.Equal(RecurrentGradCheck.FloatStep, inFloat.Tolerance.Step);
        Assert.Equal(RecurrentGradCheck.FloatRelativeTolerance, inFloat.Tolerance.RelativeTolerance);
        string text = inFloat.ToString();
        Assert.Contains("tolerance |analytic - numeric| <= ", text);
        Assert.Contains("|D(h) - D(2h)|", text);
        Assert.Contains("step " + RecurrentGradCheck.FloatStep.ToString("G3", CultureInfo.InvariantCulture), text);
        // What was allowed at the worst comparison is what its error was measured against.
        Assert.True(Math.Abs(inFloat.Worst.Analytic - inFloat.Worst.Numeric) <= inFloat.WorstAllowed);

        var inDouble = Check<double>("lstm", 10, GradCheckMode.Directional);
        Assert.False(inDouble.Tolerance.EstimateNumericError);
        Assert.Equal(new GradCheckOptions().Step, inDouble.Tolerance.Step);
        Assert.DoesNotContain("D(2h)", inDouble.ToString());
    }

    [Fact]
    public void AStepTheCallerChoseIsKeptInFloat()
    {
        var x = Tensor.RandomNormal<float>(new Rng(5), [6, 2, 2]);
        var report = RecurrentGradCheck.Check(Layer<float>("lstm"), x, check: new GradCheckOptions { Step = 1e-2 });
        Assert.Equal(1e-2, report.Tolerance.Step);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void TheFloatToleranceStaysFarBelowTheErrorOfACutPath()
    {
        // The old float check allowed ~12x the loss magnitude, so nothing could fail. Now the allowance at the worst
        // direction of a cut cell must be a small fraction of the error it is compared with.
        var report = Check<float>("cut", 10, GradCheckMode.Directional);
        double error = Math.Abs(report.Worst.Analytic - report.Worst.Numeric);
        Assert.True(report.WorstAllowed < 0.2 * error, report.ToString());
    }
}
