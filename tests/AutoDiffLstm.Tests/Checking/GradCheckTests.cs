using System.Globalization;

namespace AutoDiffLstm.Tests.Checking;

/// <summary>
/// GradCheck itself: it must fail on a wrong gradient and say where, report consistent numbers, warn about float, and
/// leave the caller's tensors, gradients and recorded graph as they were.
/// </summary>
public class GradCheckTests
{
    private static readonly double[] X = [0.5, -1.5, 2.0, 0.8];

    /// <summary>f(x) = x * detach(x): the engine's gradient is x, the true derivative of x^2 is 2x.</summary>
    private static Tensor<double> WrongGradient(Tensor<double> x) => x * x.Detach();

    private static string G10(double v) => v.ToString("G10", CultureInfo.InvariantCulture);

    [Fact]
    public void FullJacobianModeCatchesAWrongGradientAndNamesTheWorstElement()
    {
        var report = GradCheck.Check(WrongGradient, Tensor.FromArray(X), new GradCheckOptions { Mode = GradCheckMode.FullJacobian });
        Assert.False(report.Passed);
        Assert.Equal(GradCheckMode.FullJacobian, report.Mode);
        Assert.Equal(X.Length * X.Length, report.Compared);
        // The excess over tolerance grows with |x|, so the worst entry is the diagonal one at the largest |x| (2.0).
        Assert.Equal(new GradCheckEntry(0, 2, 2, report.Worst.Analytic, report.Worst.Numeric), report.Worst);
        Assert.Equal(2.0, report.Worst.Analytic, 12);
        Assert.Equal(4.0, report.Worst.Numeric, 6);
        Assert.Equal(2.0, report.MaxAbsoluteError, 6);
        Assert.Equal(0.5, report.MaxRelativeError, 6);
        var text = report.ToString();
        Assert.Contains("FAILED", text);
        Assert.Contains("d output[2] / d input 0[2]", text);
        Assert.Contains(G10(report.Worst.Analytic), text);
        Assert.Contains(G10(report.Worst.Numeric), text);
    }

    [Fact]
    public void DirectionalModeCatchesAWrongGradient()
    {
        var options = new GradCheckOptions { Mode = GradCheckMode.Directional, Directions = 5 };
        var report = GradCheck.Check(WrongGradient, Tensor.FromArray(X), options);
        Assert.False(report.Passed);
        Assert.Equal(GradCheckMode.Directional, report.Mode);
        Assert.Equal(5, report.Compared);
        Assert.Equal(-1, report.Worst.Input);
        Assert.Equal(-1, report.Worst.OutputIndex);
        Assert.InRange(report.Worst.Index, 0, 4);
        // Along any direction the true directional derivative is exactly twice the engine's.
        Assert.Equal(2 * report.Worst.Analytic, report.Worst.Numeric, 1e-6);
        Assert.Contains($"direction {report.Worst.Index}", report.ToString());
    }

    [Fact]
    public void CorrectGradientsPassInBothModesWithConsistentFields()
    {
        var rng = new Rng(3);
        Tensor<double>[] inputs = [Tensor.RandomNormal<double>(rng, [2, 3]), Tensor.RandomNormal<double>(rng, [3])];
        Tensor<double> F(Tensor<double>[] v) => (v[0] * v[1]).Tanh() + v[1].Exp();

        var full = GradCheck.Check(F, inputs);
        Assert.Equal(GradCheckMode.FullJacobian, full.Mode); // 9 input and 6 output elements are under the limit of 64
        Assert.Equal((6 + 3) * 6, full.Compared);
        var directional = GradCheck.Check(F, inputs, new GradCheckOptions { FullJacobianLimit = 8 });
        Assert.Equal(GradCheckMode.Directional, directional.Mode);
        Assert.Equal(new GradCheckOptions().Directions, directional.Compared);

        var defaults = new GradCheckOptions();
        foreach (var r in new[] { full, directional })
        {
            Assert.True(r.Passed, r.ToString());
            Assert.Empty(r.Warnings);
            Assert.StartsWith("GradCheck passed", r.ToString());
            double worstAbs = Math.Abs(r.Worst.Analytic - r.Worst.Numeric);
            Assert.True(r.MaxAbsoluteError >= worstAbs, r.ToString());
            Assert.True(r.MaxAbsoluteError <= defaults.AbsoluteTolerance + defaults.RelativeTolerance * 10, r.ToString());
            Assert.True(r.MaxRelativeError >= 0 && r.MaxRelativeError <= 1e-3, r.ToString());
            Assert.True(worstAbs <= defaults.AbsoluteTolerance + defaults.RelativeTolerance * Math.Abs(r.Worst.Numeric));
        }
    }

    [Fact]
    public void FloatInputsProduceAWarning()
    {
        var x = Tensor.FromArray(new[] { 0.5f, -0.25f });
        var loose = new GradCheckOptions { Step = 1e-2, AbsoluteTolerance = 1e-2, RelativeTolerance = 1e-2 };
        var report = GradCheck.Check(v => v.Tanh(), x, loose);
        Assert.True(report.Passed, report.ToString());
        Assert.Contains(report.Warnings, w => w.Contains("float"));
        Assert.Contains("warning:", report.ToString());
    }

    [Fact]
    public void NonFiniteGradientsFailTheCheck()
    {
        // d sqrt(x)/dx at 0 is infinite, and the central difference reads sqrt(-h) = NaN.
        var report = GradCheck.Check(v => v.Sqrt(), Tensor.FromArray(new[] { 0.0, 1.0 }));
        Assert.False(report.Passed);
        Assert.Equal(0, report.Worst.Index);
    }

    [Fact]
    public void OutputThatDoesNotDependOnTheInputsIsRejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => GradCheck.Check(v => Tensor.Ones<double>(2), Tensor.FromArray(X)));
        Assert.Contains("GradCheck", error.Message);
    }

    [Fact]
    public void CallersInputsAndTheirGradientsAreUntouched()
    {
        var x = Tensor.FromArray(X).RequireGrad();
        (x * 3.0).Sum().Backward();
        var grad = x.Grad!;
        var gradValues = grad.ToArray();
        var plain = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 });

        var report = GradCheck.Check<double>(v => v[0] * v[1], [x, plain]);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(X, x.ToArray());
        Assert.Same(grad, x.Grad);
        Assert.Equal(gradValues, x.Grad!.ToArray());
        Assert.True(x.RequiresGrad);
        Assert.Equal([1.0, 2.0, 3.0, 4.0], plain.ToArray());
        Assert.False(plain.RequiresGrad);
        Assert.Null(plain.Grad);
    }

    [Fact]
    public void ParametersCapturedByTheFunctionKeepTheirGradients()
    {
        // Checking a layer with respect to its input must not leave gradients in the layer's weights.
        var rng = new Rng(4);
        var w = Tensor.RandomNormal<double>(rng, [3, 4]).RequireGrad();
        var b = Tensor.RandomNormal<double>(rng, [3]).RequireGrad();
        (w.Sum() * 2.0).Backward();
        var wGrad = w.Grad!.ToArray();

        var report = GradCheck.Check(v => v.Linear(w, b).Tanh(), Tensor.RandomNormal<double>(rng, [2, 4]));

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(wGrad, w.Grad!.ToArray());
        Assert.Null(b.Grad);
    }

    [Fact]
    public void CallersRecordedGraphSurvivesACheck()
    {
        var x = Tensor.FromArray(X).RequireGrad();
        var pending = (x * x).Sum();
        int recorded = Tape.Current.Count;

        GradCheck.Check(v => v.Tanh(), Tensor.FromArray(X));

        Assert.Equal(recorded, Tape.Current.Count);
        pending.Backward();
        Approx.Equal(X.Select(v => 2 * v).ToArray(), x.Grad, 1e-15, "dx of the pending graph");
    }

    [Fact]
    public void TensorsOfTheCallersGraphReadByTheFunctionAreConstantsAndKeepNoTrace()
    {
        var x = Tensor.FromArray(X).RequireGrad();
        var h = x.Tanh();

        var report = GradCheck.Check(v => v * h, Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 }));

        Assert.True(report.Passed, report.ToString());
        Assert.Null(h.Grad);
        h.Sum().Backward();
        Approx.Equal(X.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray(), x.Grad, 1e-15, "dx of the caller's graph");
    }
}
