using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Tests.Training;

namespace AutoDiffLstm.Tests.Diagnostics;

/// <summary>Lanczos eigenvalues of the Hessian and the Gauss-Newton matrix against dense eigen-decompositions (double).</summary>
public class CurvatureTests
{
    [Fact]
    public void JacobiFindsTheKnownSpectrumOfTheSecondDifferenceMatrix()
    {
        // tridiag(-1, 2, -1) of size n has eigenvalues 2 - 2 cos(k pi / (n + 1)).
        const int n = 12;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] = 2;
            if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = -1;
        }
        var expected = Enumerable.Range(1, n).Select(k => 2 - 2 * Math.Cos(k * Math.PI / (n + 1))).OrderDescending().ToArray();
        Approx.Equal(expected, SymmetricEigen.Eigenvalues(a, n), 1e-12);
        Assert.Contains("not symmetric", Assert.Throws<ArgumentException>(() => SymmetricEigen.Eigenvalues([1, 2, 3, 4], 2)).Message);
    }

    [Fact]
    public void LanczosTopHessianEigenvaluesEqualTheDenseHessiansOnATinyRnn()
    {
        var problem = new TinyRecurrentProblem();
        int n = problem.ParameterCount;
        var dense = SymmetricEigen.Eigenvalues(Autograd.Hessian(v => problem.LossOf(problem.Split(v)), problem.Flat()).ToArray(), n);
        var full = Curvature.TopHessianEigenvalues(problem.LossOf, problem.Parameters, count: 3, steps: n);
        Approx.Equal(dense.Take(3).ToArray(), [.. full.Top], 1e-10, "top Hessian eigenvalue");
        Assert.Equal(dense[^1], full.Smallest, 1e-10);
        Assert.True(dense[^1] < 0, "the RNN's Hessian is indefinite here, so the smallest eigenvalue tests the negative side");
        // Fewer steps than parameters still pin the largest eigenvalue (Lanczos finds the extremes first).
        var partial = Curvature.TopHessianEigenvalues(problem.LossOf, problem.Parameters, count: 1, steps: 15);
        Assert.Equal(dense[0], partial.Top[0], 1e-6 * Math.Abs(dense[0]));
        Assert.Equal(15, partial.Products);
    }

    [Fact]
    public void LanczosTopGaussNewtonEigenvalueEqualsDenseJTransposeHJ()
    {
        var problem = new TinyRecurrentProblem();
        int n = problem.ParameterCount, outputs = problem.Targets.Size;
        var j = Autograd.Jacobian(v => problem.Output(problem.Split(v)).Reshape(-1), problem.Flat()).ToArray(); // [outputs, n]
        // Mean squared error over the outputs: H_L = (2 / outputs) I, so G = (2 / outputs) J^T J.
        var g = new double[n * n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                double s = 0;
                for (int o = 0; o < outputs; o++) s += j[o * n + a] * j[o * n + b];
                g[a * n + b] = 2.0 / outputs * s;
            }
        var dense = SymmetricEigen.Eigenvalues(g, n);
        var lanczos = Curvature.TopGaussNewtonEigenvalues(problem.Output, problem.Parameters, problem.Loss, count: 2, steps: n);
        Approx.Equal(dense.Take(2).ToArray(), [.. lanczos.Top], 1e-10, "top Gauss-Newton eigenvalue");
        Assert.True(lanczos.Smallest > -1e-10, $"G is positive semi-definite, got smallest eigenvalue {lanczos.Smallest}");
    }

    [Fact]
    public void BadRequestsAreRefusedInWords()
    {
        var problem = new TinyRecurrentProblem();
        Assert.Contains("number of eigenvalues must be at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => Curvature.TopHessianEigenvalues(problem.LossOf, problem.Parameters, count: 0)).Message);
        Assert.Contains("no parameters were given", Assert.Throws<ArgumentException>(() => Curvature.TopHessianEigenvalues<double>(p => p[0], [])).Message);
        Assert.Contains("number of steps must be at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.RitzValues(v => v, 3, 0)).Message);
    }
}
