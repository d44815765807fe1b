using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training.Online;

namespace AutoDiffLstm.Tests.Training.Online;

/// <summary>UORO: unbiased (statistically, with a bound that a biased estimator fails), exact at one step, and refuses bad input.</summary>
public class UoroTests
{
    [Theory]
    [InlineData("rnn")]
    [InlineData("lstm")]
    public void MeanOverManyDrawsApproachesTheExactRtrlGradient(string cellName)
    {
        var problem = new OnlineGradientCase(cellName, steps: 6, batch: 1, input: 2, hidden: 2, seed: 21);
        var exact = problem.OnlineGradient(new Rtrl<double>(problem.Cell));
        const int draws = 1500;
        int p = exact.Length;
        var sum = new double[p];
        var sumSquares = new double[p];
        for (int n = 0; n < draws; n++)
        {
            var g = problem.OnlineGradient(new Uoro<double>(problem.Cell, new Rng(1000 + (ulong)n)));
            for (int k = 0; k < p; k++) { sum[k] += g[k]; sumSquares[k] += g[k] * g[k]; }
        }
        var mean = sum.Select(s => s / draws).ToArray();
        var standardError = sumSquares.Select((s, k) => Math.Sqrt(Math.Max(s / draws - mean[k] * mean[k], 0) / draws) + 1e-12).ToArray();
        double Z(double[] reference) => Enumerable.Range(0, p).Max(k => Math.Abs(mean[k] - reference[k]) / standardError[k]);

        // Unbiased: every component within 4.5 standard errors of the exact gradient (about 1 in 10^5 per component by chance).
        Assert.True(Z(exact) < 4.5, $"{cellName}: the UORO mean is {Z(exact):F2} standard errors from the exact RTRL gradient in some component.");
        // The bound discriminates: the gradient that drops the carried sensitivity (one-step truncated BPTT), which a UORO
        // without the ∂F/∂s s̃ term would estimate, lies far outside it.
        var truncated = TruncatedGradient(problem);
        Assert.True(Z(truncated) > 8, $"{cellName}: the one-step truncated gradient is only {Z(truncated):F2} standard errors away; the test could not tell a biased estimator.");
        // And the estimate is not the exact gradient itself: it has variance.
        Assert.True(standardError.Max() > 1e-6, "UORO draws should differ from each other.");
    }

    [Fact]
    public void AfterOneStepTheEstimateIsExactInExpectationAndRankOne()
    {
        var cell = CellRegistry.Create<double>("gru", 2, 3, new Rng(2));
        var x = Tensor.RandomNormal<double>(new Rng(3), [1, 2]);
        var exact = new Rtrl<double>(cell);
        exact.Step(x);
        var s = exact.Sensitivity();
        var mean = new double[s.Size];
        const int draws = 4000;
        for (int n = 0; n < draws; n++)
        {
            var u = new Uoro<double>(cell, new Rng((ulong)n));
            u.Step(x);
            var e = u.Sensitivity();
            for (int i = 0; i < mean.Length; i++) mean[i] += e.AsSpan()[i] / draws;
        }
        // ν ν^T ∂F/∂θ with random signs: the sample mean of ν_a ν_b (a ≠ b) has standard deviation 1/sqrt(draws).
        double scale = s.AsSpan().ToArray().Max(Math.Abs);
        for (int i = 0; i < mean.Length; i++)
            Assert.True(Math.Abs(mean[i] - s.AsSpan()[i]) < 5 * 3 * scale / Math.Sqrt(draws), $"entry {i}: mean {mean[i]:G4} vs exact {s.AsSpan()[i]:G4}");
        var one = new Uoro<double>(cell, new Rng(9));
        one.Step(x);
        Assert.Equal(1, NumericalRank(one.Sensitivity()));
    }

    [Fact]
    public void MemoryIsParametersPlusStateAgainstRtrlsProduct()
    {
        var cell = CellRegistry.Create<double>("lstm", 3, 4, new Rng(1));
        int p = cell.Parameters.ElementCount, state = 2 * 4 * 2;
        Assert.Equal(p + state, new Uoro<double>(cell, new Rng(1), batchSize: 2).SensitivityElements);
        Assert.Equal((long)p * state, new Rtrl<double>(cell, batchSize: 2).SensitivityElements);
    }

    private static double[] TruncatedGradient(OnlineGradientCase problem)
    {
        var cell = problem.Cell;
        foreach (var q in cell.NamedParameters()) q.Value.ZeroGrad();
        Tape.Current.Reset();
        var state = cell.InitialState(1);
        Tensor<double>? total = null;
        for (int t = 0; t < problem.Steps; t++)
        {
            state = cell.Next(problem.Inputs.Select(0, t), state.Detach());
            var l = problem.LossAt(t, cell.Output(state));
            total = total is null ? l : total + l;
        }
        total!.Backward();
        var g = cell.NamedParameters().SelectMany(q => q.Value.Grad?.ToArray() ?? new double[q.Value.Size]).ToArray();
        foreach (var q in cell.NamedParameters()) q.Value.ZeroGrad();
        return g;
    }

    private static int NumericalRank(Tensor<double> m)
    {
        int rows = m.Shape[0], cols = m.Shape[1];
        var a = m.ToArray();
        int rank = 0;
        var used = new bool[rows];
        double tol = 1e-9 * a.Max(Math.Abs);
        for (int c = 0; c < cols; c++)
        {
            int pivot = -1;
            for (int r = 0; r < rows; r++) if (!used[r] && Math.Abs(a[r * cols + c]) > tol && (pivot < 0 || Math.Abs(a[r * cols + c]) > Math.Abs(a[pivot * cols + c]))) pivot = r;
            if (pivot < 0) continue;
            used[pivot] = true;
            rank++;
            for (int r = 0; r < rows; r++)
            {
                if (r == pivot) continue;
                double f = a[r * cols + c] / a[pivot * cols + c];
                for (int k = 0; k < cols; k++) a[r * cols + k] -= f * a[pivot * cols + k];
            }
        }
        return rank;
    }
}
