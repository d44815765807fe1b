namespace AutoDiffLstm.Training;

/// <summary>When <see cref="ConjugateGradient.Minimize"/> stops, and which iterates it keeps for backtracking.</summary>
public sealed record ConjugateGradientOptions
{
    /// <summary>The most matrix-vector products (iterations) per solve.</summary>
    public int MaxIterations { get; init; } = 50;

    /// <summary>
    /// ε of Martens' (2010, §4.4) progress test: stop at iteration i once q_i &lt; 0 and
    /// (q_i − q_{i−k}) / q_i &lt; k ε with k = max(10, ⌈0.1 i⌉), i.e. the quadratic's relative decrease per iteration
    /// over the last k iterations has fallen below ε. 0 turns the test off.
    /// </summary>
    public double ProgressTolerance { get; init; } = 5e-4;

    /// <summary>Stop once the residual ||b − A x|| is at most this times ||b|| (the classical test).</summary>
    public double ResidualTolerance { get; init; } = 1e-10;

    /// <summary>Keep the iterate of iteration ⌈γ^j⌉ for j = 0, 1, ... (Martens 2010 uses γ = 1.3), plus the last one.</summary>
    public double BacktrackGrowth { get; init; } = 1.3;

    /// <summary>Throws naming the setting when one is out of range.</summary>
    public void Validate()
    {
        if (MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, $"ConjugateGradient: MaxIterations must be at least 1, got {MaxIterations}.");
        if (!(ProgressTolerance >= 0) || !double.IsFinite(ProgressTolerance)) throw new ArgumentOutOfRangeException(nameof(ProgressTolerance), ProgressTolerance, $"ConjugateGradient: ProgressTolerance must be finite and >= 0, got {ProgressTolerance}.");
        if (!(ResidualTolerance >= 0) || !double.IsFinite(ResidualTolerance)) throw new ArgumentOutOfRangeException(nameof(ResidualTolerance), ResidualTolerance, $"ConjugateGradient: ResidualTolerance must be finite and >= 0, got {ResidualTolerance}.");
        if (!(BacktrackGrowth > 1) || !double.IsFinite(BacktrackGrowth)) throw new ArgumentOutOfRangeException(nameof(BacktrackGrowth), BacktrackGrowth, $"ConjugateGradient: BacktrackGrowth must be finite and > 1, got {BacktrackGrowth}.");
    }
}

/// <summary>One kept CG iterate: its iteration number, the point, and the quadratic q(x) = ½ xᵀA x − bᵀx there.</summary>
public sealed record ConjugateGradientIterate(int Iteration, double[] Point, double Quadratic);

/// <summary>Why a CG solve stopped.</summary>
public enum ConjugateGradientStop
{
    /// <summary>The residual fell below <see cref="ConjugateGradientOptions.ResidualTolerance"/>.</summary>
    Converged,
    /// <summary>Martens' relative-progress test fired.</summary>
    Stalled,
    /// <summary><see cref="ConjugateGradientOptions.MaxIterations"/> products were spent.</summary>
    IterationLimit,
    /// <summary>A search direction had pᵀA p ≤ 0: A is not positive definite along it (the solve keeps the iterate before).</summary>
    NonPositiveCurvature,
}

/// <summary>A CG solve: the final point, the iterates kept for backtracking (ascending, the last one included), and why it stopped.</summary>
public sealed record ConjugateGradientResult(double[] Solution, IReadOnlyList<ConjugateGradientIterate> Iterates, int Iterations, double ResidualNorm, ConjugateGradientStop Stop);

/// <summary>
/// Linear conjugate gradient (Hestenes and Stiefel 1952) for a symmetric positive-definite A given only as a product
/// v ↦ A v: it minimises q(x) = ½ xᵀA x − bᵀx, i.e. solves A x = b, from a start x₀. Each iteration
/// <code>
/// α = rᵀr / pᵀA p,   x ← x + α p,   r ← r − α A p,   β = r'ᵀr' / rᵀr,   p ← r' + β p
/// </code>
/// costs one product; q is tracked for free as q(x) = −½ xᵀ(b + r), because A x = b − r. The stopping rule and the
/// kept iterates are those of Hessian-free optimisation (Martens 2010, §4.4 and §4.6).
/// </summary>
public static class ConjugateGradient
{
    /// <summary>Minimises ½ xᵀA x − bᵀx starting at <paramref name="start"/> (zeros when null).</summary>
    /// <param name="multiply">v ↦ A v; must not modify v.</param>
    /// <param name="b">The right-hand side.</param>
    /// <param name="start">x₀, e.g. the previous solve's solution decayed (Martens' warm start).</param>
    /// <param name="options">Stopping rule and kept iterates.</param>
    public static ConjugateGradientResult Minimize(Func<double[], double[]> multiply, double[] b, double[]? start = null, ConjugateGradientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(multiply);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new ConjugateGradientOptions();
        options.Validate();
        int n = b.Length;
        if (start is not null && start.Length != n)
            throw new ArgumentException($"ConjugateGradient.Minimize: the start has {start.Length} elements but b has {n}; they must match.", nameof(start));
        var x = start is null ? new double[n] : (double[])start.Clone();
        var r = (double[])b.Clone();
        if (start is not null && ParameterVector.Norm(start) > 0) ParameterVector.AddScaled(r, -1, Product(multiply, x, n));
        var p = (double[])r.Clone();
        double rr = ParameterVector.Dot(r, r), bNorm = ParameterVector.Norm(b);
        var kept = new List<ConjugateGradientIterate>();
        var quadratic = new List<double> { Quadratic(x, b, r) };
        double nextKept = 1;
        var stop = ConjugateGradientStop.IterationLimit;
        int i = 0;
        while (i < options.MaxIterations)
        {
            if (Math.Sqrt(rr) <= options.ResidualTolerance * bNorm) { stop = ConjugateGradientStop.Converged; break; }
            var ap = Product(multiply, p, n);
            double pap = ParameterVector.Dot(p, ap);
            if (!(pap > 0)) { stop = ConjugateGradientStop.NonPositiveCurvature; break; }
            double alpha = rr / pap;
            ParameterVector.AddScaled(x, alpha, p);
            ParameterVector.AddScaled(r, -alpha, ap);
            i++;
            double q = Quadratic(x, b, r);
            quadratic.Add(q);
            if (i >= Math.Ceiling(nextKept))
            {
                kept.Add(new ConjugateGradientIterate(i, (double[])x.Clone(), q));
                while (Math.Ceiling(nextKept) <= i) nextKept *= options.BacktrackGrowth;
            }
            int k = Math.Max(10, (int)Math.Ceiling(0.1 * i));
            if (options.ProgressTolerance > 0 && i > k && q < 0 && (q - quadratic[i - k]) / q < k * options.ProgressTolerance)
            {
                stop = ConjugateGradientStop.Stalled;
                break;
            }
            double rrNext = ParameterVector.Dot(r, r);
            double beta = rrNext / rr;
            rr = rrNext;
            for (int j = 0; j < n; j++) p[j] = r[j] + beta * p[j];
        }
        if (kept.Count == 0 || kept[^1].Iteration != i) kept.Add(new ConjugateGradientIterate(i, (double[])x.Clone(), quadratic[^1]));
        return new ConjugateGradientResult(x, kept, i, ParameterVector.Norm(r), stop);
    }

    private static double Quadratic(double[] x, double[] b, double[] r)
    {
        double sum = 0;
        for (int j = 0; j < x.Length; j++) sum += x[j] * (b[j] + r[j]);
        return -0.5 * sum;
    }

    private static double[] Product(Func<double[], double[]> multiply, double[] v, int n)
    {
        var result = multiply(v);
        if (result is null || result.Length != n)
            throw new InvalidOperationException($"ConjugateGradient: the product returned {result?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"} elements for a vector of {n}; A must be square.");
        return result;
    }
}
