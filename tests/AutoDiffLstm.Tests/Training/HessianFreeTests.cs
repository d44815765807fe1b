using AutoDiffLstm.Training;

namespace AutoDiffLstm.Tests.Training;

/// <summary>Conjugate gradient, the Levenberg-Marquardt damping rule and Hessian-free steps (double, small problems).</summary>
public class HessianFreeTests
{
    private static (double[] A, double[] B, int N) SpdSystem(int n, ulong seed)
    {
        var rng = new Rng(seed);
        var m = Enumerable.Range(0, n * n).Select(_ => rng.NextNormal()).ToArray();
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = i == j ? 0.5 : 0;
                for (int k = 0; k < n; k++) s += m[k * n + i] * m[k * n + j];
                a[i * n + j] = s;
            }
        return (a, Enumerable.Range(0, n).Select(_ => rng.NextNormal()).ToArray(), n);
    }

    private static double[] Times(double[] a, int n, double[] v)
    {
        var r = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) r[i] += a[i * n + j] * v[j];
        return r;
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));

    [Fact]
    public void ConjugateGradientSolvesAnSpdSystemToTolerance()
    {
        var (a, b, n) = SpdSystem(20, 7);
        var result = ConjugateGradient.Minimize(v => Times(a, n, v), b, options: new() { MaxIterations = 200, ProgressTolerance = 0, ResidualTolerance = 1e-10 });
        Assert.Equal(ConjugateGradientStop.Converged, result.Stop);
        var residual = Times(a, n, result.Solution).Select((x, i) => b[i] - x).ToArray();
        Assert.True(Norm(residual) <= 1e-9 * Norm(b), $"residual {Norm(residual):G3}");
        Assert.Equal(Norm(residual), result.ResidualNorm, 1e-8);
        // The kept iterates are ceil(1.3^j) and the last; q falls monotonically along CG's path.
        Assert.Equal([1, 2, 3, 4, 5], result.Iterates.Take(5).Select(it => it.Iteration));
        Assert.Equal(result.Iterations, result.Iterates[^1].Iteration);
        for (int k = 1; k < result.Iterates.Count; k++) Assert.True(result.Iterates[k].Quadratic <= result.Iterates[k - 1].Quadratic + 1e-12);
        // q at the solution is -1/2 b^T x.
        Assert.Equal(-0.5 * b.Zip(result.Solution, (p, q) => p * q).Sum(), result.Iterates[^1].Quadratic, 1e-9);
    }

    [Fact]
    public void ConjugateGradientStartedAtTheSolutionStopsAtOnceAndTheProgressTestStopsEarly()
    {
        var (a, b, n) = SpdSystem(30, 8);
        var exact = ConjugateGradient.Minimize(v => Times(a, n, v), b, options: new() { MaxIterations = 300, ProgressTolerance = 0, ResidualTolerance = 1e-12 });
        var warm = ConjugateGradient.Minimize(v => Times(a, n, v), b, exact.Solution, new() { ResidualTolerance = 1e-8 });
        Assert.Equal(0, warm.Iterations);
        Assert.Equal(ConjugateGradientStop.Converged, warm.Stop);
        // A loose progress tolerance ends the solve before the residual test would.
        var loose = ConjugateGradient.Minimize(v => Times(a, n, v), b, options: new() { MaxIterations = 300, ProgressTolerance = 0.05, ResidualTolerance = 1e-12 });
        Assert.Equal(ConjugateGradientStop.Stalled, loose.Stop);
        Assert.InRange(loose.Iterations, 11, exact.Iterations - 1);
    }

    [Fact]
    public void ConjugateGradientRefusesMismatchedShapesAndBadOptions()
    {
        var e = Assert.Throws<ArgumentException>(() => ConjugateGradient.Minimize(v => v, [1.0, 2.0], [1.0]));
        Assert.Contains("the start has 1 elements but b has 2", e.Message);
        var p = Assert.Throws<InvalidOperationException>(() => ConjugateGradient.Minimize(v => [1.0], [1.0, 2.0]));
        Assert.Contains("returned 1 elements for a vector of 2", p.Message);
        var o = Assert.Throws<ArgumentOutOfRangeException>(() => ConjugateGradient.Minimize(v => v, [1.0], options: new() { MaxIterations = 0 }));
        Assert.Contains("MaxIterations must be at least 1", o.Message);
        // An indefinite matrix: CG stops on the first direction of non-positive curvature.
        var indefinite = ConjugateGradient.Minimize(v => [-v[0], v[1]], [1.0, 0.0]);
        Assert.Equal(ConjugateGradientStop.NonPositiveCurvature, indefinite.Stop);
        Assert.Equal(0, indefinite.Iterations);
    }

    [Theory]
    [InlineData(0.1, 1.5)]
    [InlineData(-3.0, 1.5)]
    [InlineData(double.NaN, 1.5)]
    [InlineData(0.5, 1.0)]
    [InlineData(0.9, 2.0 / 3.0)]
    public void TheDampingFollowsTheReductionRatio(double ratio, double factor)
    {
        var rule = new LevenbergMarquardt();
        Assert.Equal(2.0 * factor, rule.Next(2.0, ratio), 1e-15);
    }

    [Fact]
    public void TheDampingStaysInItsRangeAndBadRulesAreRefused()
    {
        var rule = new LevenbergMarquardt(Minimum: 0.1, Maximum: 10);
        Assert.Equal(10, rule.Next(9, 0));
        Assert.Equal(0.1, rule.Next(0.12, 1));
        Assert.Contains("Increase must be finite and > 1", Assert.Throws<ArgumentOutOfRangeException>(() => new LevenbergMarquardt(Increase: 0.5).Next(1, 0)).Message);
        Assert.Contains("the damping must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => rule.Next(0, 0.5)).Message);
        var p = new[] { Tensor.Zeros<double>(2).RequireGrad() };
        Assert.Contains("structural damping μ must be finite and >= 0", Assert.Throws<ArgumentOutOfRangeException>(() => new HessianFree<double>(p, new() { StructuralDamping = -1 })).Message);
        Assert.Contains("initial damping λ must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => new HessianFree<double>(p, new() { InitialDamping = 0 })).Message);
    }

    [Fact]
    public void OneUndampedStepOnAQuadraticIsTheNewtonStep()
    {
        // f(W, c) = mean((X W^T + c - t)^2) is quadratic, so G = H and one fully solved step lands on the minimiser.
        var rng = new Rng(11);
        var x = Tensor.RandomNormal<double>(rng, [12, 4]);
        var t = Tensor.RandomNormal<double>(rng, [12, 2]);
        var w = Tensor.RandomNormal<double>(rng, [2, 4]).RequireGrad();
        var c = Tensor.RandomNormal<double>(rng, [2]).RequireGrad();
        var loss = GaussNewtonLoss<double>.MeanSquaredError(t);
        Tensor<double> Model(Tensor<double>[] p) => x.Linear(p[0], p[1]);
        var batch = new HessianFreeBatch<double>(p => loss.Loss(Model(p)), p => new(Model(p), null), loss);

        // The direct Newton step from the dense Hessian of the flattened parameters.
        var flat = Tensor.FromArray([.. w.ToArray(), .. c.ToArray()], 10);
        Tensor<double> F(Tensor<double> v) => loss.Loss(Model([v.Narrow(0, 0, 8).Reshape(2, 4), v.Narrow(0, 8, 2)]));
        var h = Autograd.Hessian(F, flat).ToArray();
        var leaf = flat.Detach().RequireGrad();
        var grad = Autograd.Grad(F(leaf), [leaf])[0].ToArray();
        var newton = flat.ToArray().Zip(Solve(h, grad, 10), (a, d) => a - d).ToArray();

        var hf = new HessianFree<double>([w, c], new()
        {
            InitialDamping = 1e-9, DampingRule = new(Minimum: 1e-12), WarmStartDecay = 0,
            ConjugateGradient = new() { MaxIterations = 50, ProgressTolerance = 0, ResidualTolerance = 1e-13 },
        });
        var report = hf.Step(batch);
        Approx.Equal(newton, [.. w.ToArray(), .. c.ToArray()], 1e-7, "HF step vs Newton step");
        Assert.Equal(1.0, report.StepSize);
        Assert.InRange(report.ReductionRatio, 0.999, 1.001); // the model is exact: actual decrease = predicted
        Assert.True(report.NewLoss < report.Loss);
        Assert.Equal(1e-9 * 2.0 / 3.0, hf.Damping, 1e-20);
        Assert.Equal(1, hf.StepsTaken);
    }

    [Fact]
    public void HessianFreeReducesTheLossOfATinyRnnWithAndWithoutStructuralDamping()
    {
        foreach (double mu in new[] { 0.0, 0.3 })
        {
            var problem = new TinyRecurrentProblem(steps: 6, batch: 16);
            var hf = new HessianFree<double>(problem.Parameters, new() { StructuralDamping = mu, ConjugateGradient = new() { MaxIterations = 20 } });
            double first = problem.LossOf(problem.Parameters).ItemAsDouble();
            HessianFreeStepReport last = default;
            for (int k = 0; k < 8; k++)
            {
                last = hf.Step(problem.Batch());
                Assert.True(last.NewLoss <= last.Loss, $"μ = {mu}, step {k}: the loss rose from {last.Loss} to {last.NewLoss}");
                Assert.True(last.CgIterations >= 1);
            }
            double final = problem.LossOf(problem.Parameters).ItemAsDouble();
            Assert.Equal(last.NewLoss, final, 1e-12);
            Assert.True(final < 0.5 * first, $"μ = {mu}: the loss went from {first} to {final}");
        }
    }

    [Fact]
    public void TheStructuralDampingProductIsGaussNewtonPlusTheHiddenStateTerm()
    {
        var problem = new TinyRecurrentProblem();
        var rng = new Rng(4);
        var v = problem.Parameters.Select(p => Tensor.RandomNormal<double>(rng, [.. p.Shape])).ToArray();
        const double weight = 0.7;
        var combined = HessianFree<double>.CurvatureProduct(problem.Batch(), problem.Parameters, v, weight);
        var gv = Autograd.GaussNewtonVectorProduct(problem.Output, problem.Parameters, problem.Loss, v);
        // J_h^T J_h v / N_h from a mean-squared "loss" on h, whose curvature is (2 / N_h) I.
        var hidden = problem.Run(problem.Parameters).Hidden!;
        var jhv = Autograd.GaussNewtonVectorProduct(p => problem.Run(p).Hidden!, problem.Parameters, GaussNewtonLoss<double>.MeanSquaredError(hidden.Detach()), v);
        for (int i = 0; i < v.Length; i++)
            Approx.Equal(gv[i].ToArray().Zip(jhv[i].ToArray(), (a, b) => a + weight * b / 2).ToArray(), combined[i], 1e-12, $"parameter {i}");
    }

    private static double[] Solve(double[] a, double[] b, int n)
    {
        var m = (double[])a.Clone();
        var x = (double[])b.Clone();
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(m[r * n + col]) > Math.Abs(m[pivot * n + col])) pivot = r;
            for (int k = 0; k < n; k++) (m[col * n + k], m[pivot * n + k]) = (m[pivot * n + k], m[col * n + k]);
            (x[col], x[pivot]) = (x[pivot], x[col]);
            for (int r = col + 1; r < n; r++)
            {
                double factor = m[r * n + col] / m[col * n + col];
                for (int k = col; k < n; k++) m[r * n + k] -= factor * m[col * n + k];
                x[r] -= factor * x[col];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            for (int k = r + 1; k < n; k++) x[r] -= m[r * n + k] * x[k];
            x[r] /= m[r * n + r];
        }
        return x;
    }
}
