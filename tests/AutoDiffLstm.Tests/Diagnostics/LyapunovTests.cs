using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Diagnostics;

/// <summary>Lyapunov spectra against cases known in closed form: a linear map, the volume identity, a contracting tanh RNN.</summary>
public class LyapunovTests
{
    [Fact]
    public void ALinearRnnHasTheLogAbsoluteEigenvaluesOfItsMatrix()
    {
        // W = P diag(2, -0.8, 0.5) P^-1: h_t = W h_{t-1} has J_t = W at every step, so λ = log 2, log 0.8, log 0.5.
        var p = Tensor.FromArray(new double[,] { { 1, 0.5, -0.2 }, { 0.3, 1, 0.4 }, { -0.1, 0.2, 1 } });
        var inverse = Invert(p.ToArray(), 3);
        var d = new[] { 2.0, -0.8, 0.5 };
        var w = new double[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 3; k++) w[i * 3 + j] += p[i, k] * d[k] * inverse[k * 3 + j];
        var cell = LinearCell(Tensor.FromArray(w, 3, 3));
        var spectrum = Lyapunov.Spectrum(cell, Tensor.Zeros<double>(300, 1, 1), warmup: 50);
        Assert.Equal(3, spectrum.StateSize);
        Assert.Equal(250, spectrum.Steps);
        var expected = d.Select(v => Math.Log(Math.Abs(v))).OrderDescending().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], spectrum.Exponents[i], 10);
        var top = Lyapunov.Spectrum(cell, Tensor.Zeros<double>(300, 1, 1), count: 1, warmup: 50);
        Assert.Equal(Math.Log(2), top.Largest, 10);
    }

    [Theory]
    [InlineData("rnn")]
    [InlineData("gru")]
    public void TheSumOfTheFullSpectrumIsTheMeanLogAbsoluteDeterminant(string cellName)
    {
        var cell = CellRegistry.Create<double>(cellName, 2, 4, new Rng(3));
        var inputs = Tensor.RandomNormal<double>(new Rng(4), [25, 1, 2]);
        var spectrum = Lyapunov.Spectrum(cell, inputs);
        double logDet = 0;
        var state = cell.InitialState(1);
        for (int t = 0; t < 25; t++)
        {
            var x = inputs.Select(0, t);
            var jacobian = Autograd.Jacobian(h => cell.Next(x, new RecurrentState<double>(cell.StateNames, h))[0], state[0]);
            logDet += LogAbsDeterminant(jacobian.ToArray(), 4);
            state = cell.Next(x, state).Detach();
        }
        Assert.Equal(logDet / 25, spectrum.Sum, 10);
    }

    [Fact]
    public void ATanhRnnAtSmallSpectralRadiusContractsInEveryDirection()
    {
        // |J_t| = |diag(1 - h^2) rho Q| <= rho, so every exponent is at most log rho < 0.
        var cell = GradientFlowMeasureTests.ScaledOrthogonalRnn(0.6, 6, 2, 5);
        var spectrum = Lyapunov.Spectrum(cell, Tensor.RandomNormal<double>(new Rng(6), [80, 1, 2]), warmup: 10);
        Assert.All(spectrum.Exponents, l => Assert.True(l < 0, $"exponent {l}"));
        Assert.True(spectrum.Largest <= Math.Log(0.6) + 1e-12, $"λ1 = {spectrum.Largest} exceeds log 0.6 = {Math.Log(0.6)}");
        Assert.True(spectrum.Largest > Math.Log(0.6) - 0.5, $"λ1 = {spectrum.Largest} is far below log rho: the inputs barely saturate tanh");
    }

    [Fact]
    public void TheLargestExponentPredictsTheGradientDecayOfANearLinearRnn()
    {
        var cell = GradientFlowMeasureTests.ScaledOrthogonalRnn(0.8, 8, 1, 7);
        var inputs = Tensor.RandomNormal<double>(new Rng(8), [60, 1, 1], 0, 1e-3);
        var spectrum = Lyapunov.Spectrum(cell, inputs, count: 1);
        var flow = GradientFlow.Measure(cell, inputs, new Rng(9));
        Assert.Equal(flow.Log10SlopePerStep, spectrum.PredictedLog10GradientChangePerStep, 3);
        Assert.Equal(Math.Log10(0.8), spectrum.PredictedLog10GradientChangePerStep, 4);
    }

    [Fact]
    public void LstmStatesAreAllCountedAndBadArgumentsAreRefused()
    {
        var lstm = CellRegistry.Create<double>("lstm", 2, 3, new Rng(1));
        var inputs = Tensor.RandomNormal<double>(new Rng(2), [10, 1, 2]);
        var spectrum = Lyapunov.Spectrum(lstm, inputs);
        Assert.Equal(6, spectrum.StateSize);
        Assert.Equal(6, spectrum.Exponents.Length);
        Assert.True(spectrum.Exponents.Zip(spectrum.Exponents.Skip(1)).All(p => p.First >= p.Second));
        Assert.Contains("[T, 1, 2]", Assert.Throws<ArgumentException>(() => Lyapunov.Spectrum(lstm, Tensor.Zeros<double>(10, 2, 2))).Message);
        Assert.Contains("[1, 6]", Assert.Throws<ArgumentOutOfRangeException>(() => Lyapunov.Spectrum(lstm, inputs, count: 7)).Message);
        Assert.Contains("warm-up", Assert.Throws<ArgumentOutOfRangeException>(() => Lyapunov.Spectrum(lstm, inputs, warmup: 10)).Message);
    }

    private static CustomCell<double> LinearCell(Tensor<double> w)
    {
        var cell = new CustomCell<double>("linear", 1, 3, ["h"], new Dictionary<string, int[]> { ["weight_hh"] = [3, 3] },
            (x, s, p) => [s["h"].Linear(p["weight_hh"]) + x * 0.0], new Rng(1));
        return (CustomCell<double>)cell.WithParameters([new("weight_hh", w)]);
    }

    private static double LogAbsDeterminant(double[] a, int n)
    {
        double log = 0;
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r * n + c]) > Math.Abs(a[pivot * n + c])) pivot = r;
            if (pivot != c) for (int k = 0; k < n; k++) (a[c * n + k], a[pivot * n + k]) = (a[pivot * n + k], a[c * n + k]);
            log += Math.Log(Math.Abs(a[c * n + c]));
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r * n + c] / a[c * n + c];
                for (int k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
            }
        }
        return log;
    }

    private static double[] Invert(double[] a, int n)
    {
        var m = (double[])a.Clone();
        var inv = new double[n * n];
        for (int i = 0; i < n; i++) inv[i * n + i] = 1;
        for (int c = 0; c < n; c++)
        {
            double pivot = m[c * n + c];
            for (int k = 0; k < n; k++) { m[c * n + k] /= pivot; inv[c * n + k] /= pivot; }
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = m[r * n + c];
                for (int k = 0; k < n; k++) { m[r * n + k] -= f * m[c * n + k]; inv[r * n + k] -= f * inv[c * n + k]; }
            }
        }
        return inv;
    }
}
