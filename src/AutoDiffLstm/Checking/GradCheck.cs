using System.Numerics;

namespace AutoDiffLstm;

/// <summary>How <see cref="GradCheck"/> compares gradients.</summary>
public sealed record GradCheckOptions
{
    /// <summary>Finite-difference step (central differences: (f(x+h) - f(x-h)) / 2h, error O(h^2)).</summary>
    public double Step { get; init; } = 1e-6;

    /// <summary>Absolute tolerance: an element passes when |analytic - numeric| &lt;= AbsoluteTolerance + RelativeTolerance * |numeric|.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-6;

    /// <summary>Relative tolerance (see <see cref="AbsoluteTolerance"/>).</summary>
    public double RelativeTolerance { get; init; } = 1e-5;

    /// <summary>Full Jacobian (every input element perturbed) or random directions; Auto picks full when both the inputs and the output have at most <see cref="FullJacobianLimit"/> elements.</summary>
    public GradCheckMode Mode { get; init; } = GradCheckMode.Auto;

    /// <summary>Largest total input size (and output size) for which Auto chooses the full Jacobian.</summary>
    public int FullJacobianLimit { get; init; } = 64;

    /// <summary>Number of random directions in directional mode.</summary>
    public int Directions { get; init; } = 4;

    /// <summary>Seed for the random output weights and directions.</summary>
    public ulong Seed { get; init; } = 12345;

    /// <summary>
    /// Also takes every central difference with step 2h and widens that comparison's tolerance by
    /// <see cref="NumericErrorFactor"/> |D(h) - D(2h)|: a measurement of the finite difference's own error (its
    /// truncation error is a third of that difference; rounding noise makes the two steps disagree by about the
    /// noise). Meant for float, whose rounding is too large for one fixed step; it costs twice the evaluations. The
    /// allowance does not depend on the analytic gradient, so a wrong gradient still fails.
    /// </summary>
    public bool EstimateNumericError { get; init; }

    /// <summary>Multiplier of the measured |D(h) - D(2h)| when <see cref="EstimateNumericError"/> is on.</summary>
    public double NumericErrorFactor { get; init; } = 4;
}

/// <summary>Full Jacobian or random-direction checking.</summary>
public enum GradCheckMode
{
    /// <summary>Full for small inputs, directional for large ones.</summary>
    Auto,
    /// <summary>Compare every entry of the Jacobian: one backward pass per output element, two evaluations per input element.</summary>
    FullJacobian,
    /// <summary>Compare the directional derivative &lt;grad, u&gt; along random unit vectors u with its central difference (as JAX's check_grads and PyTorch's fast gradcheck).</summary>
    Directional,
}

/// <summary>
/// Gradient verification against central finite differences, in the precision of the inputs (use double). The full mode
/// compares every Jacobian entry dy_j/dx_i. The directional mode reduces the output to L = sum(v * f(x)) with random
/// weights v and compares &lt;dL/dx, u&gt; with (L(x + h u) - L(x - h u)) / 2h along random unit directions u, so its cost
/// does not grow with the input size; a wrong gradient is caught with probability one. Inputs are copied and the check
/// records on a private tape: the caller's tensors, their gradients (also of parameters f reads) and the caller's
/// recorded graph are not touched.
/// </summary>
public static partial class GradCheck
{
    /// <summary>Checks the gradients of <paramref name="f"/> with respect to every input.</summary>
    /// <param name="f">The function; it must be deterministic and may return any shape.</param>
    /// <param name="inputs">Points at which to check (copied; their RequiresGrad is ignored: every input is checked).</param>
    public static GradCheckReport Check<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] inputs, GradCheckOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new GradCheckOptions();
        using var privateTape = Tape.UsePrivateTape();
        var warnings = new List<string>();
        if (typeof(T) == typeof(float) && !options.EstimateNumericError)
            warnings.Add("Checking float inputs: central differences in single precision carry errors around 1e-3; check in double for trustworthy results, or loosen the tolerances (e.g. Step 1e-2, tolerances 1e-2).");
        var rng = new Rng(options.Seed);
        var point = inputs.Select(x => x.Clone()).ToArray();
        Tensor<T>? weights = null;
        Tensor<T> weightsFor(Tensor<T> y) => weights ??= Tensor.RandomNormal<T>(rng, y.Dims);

        // L(x) = sum(v * f(x)) with fixed random v; evaluated without recording for the finite differences.
        double Loss()
        {
            using var _ = Autograd.NoGrad();
            var y = f(point);
            var v = weightsFor(y);
            double s = 0;
            for (int i = 0; i < y.Size; i++) s += double.CreateChecked(y.Data[i]) * double.CreateChecked(v.Data[i]);
            return s;
        }

        double[] Outputs()
        {
            using var _ = Autograd.NoGrad();
            return f(point).ToArray().Select(v => double.CreateChecked(v)).ToArray();
        }

        // Analytic gradient of L with respect to every input.
        Tape.Current.Reset();
        var leaves = point.Select(x => new Tensor<T>(x.Dims, x.Data).RequireGrad()).ToArray();
        var output = f(leaves);
        var seed = weightsFor(output);
        if (!output.RequiresGrad) throw new InvalidOperationException("GradCheck: the function's output does not depend on any input through recorded operations.");
        BackwardSparingOthers(output, seed, leaves);
        var analytic = leaves.Select(l => l.Grad?.ToArray().Select(v => double.CreateChecked(v)).ToArray() ?? new double[l.Size]).ToArray();

        int total = point.Sum(p => p.Size);
        var mode = options.Mode == GradCheckMode.Auto ? (total <= options.FullJacobianLimit && output.Size <= options.FullJacobianLimit ? GradCheckMode.FullJacobian : GradCheckMode.Directional) : options.Mode;
        var report = new GradCheckReport.Builder(options, mode, warnings);
        double h = options.Step;
        if (mode == GradCheckMode.FullJacobian)
        {
            // Analytic Jacobian rows: one backward pass per output element with a one-hot seed.
            int outputs = output.Size;
            var rows = new double[outputs][][];
            for (int j = 0; j < outputs; j++)
            {
                Tape.Current.Reset();
                var ls = point.Select(x => new Tensor<T>(x.Dims, x.Data).RequireGrad()).ToArray();
                var y = f(ls);
                var oneHot = Tensor.Zeros<T>(y.Dims.ToArray());
                oneHot.Data[j] = T.One;
                BackwardSparingOthers(y, oneHot, ls);
                rows[j] = ls.Select(l => l.Grad?.ToArray().Select(v => double.CreateChecked(v)).ToArray() ?? new double[l.Size]).ToArray();
            }
            // Numeric Jacobian columns: central differences of every output per perturbed input element.
            for (int k = 0; k < point.Length; k++)
                for (int i = 0; i < point[k].Size; i++)
                {
                    T original = point[k].Data[i];
                    double[] Difference(double step)
                    {
                        point[k].Data[i] = original + T.CreateChecked(step);
                        double[] plus = Outputs();
                        point[k].Data[i] = original - T.CreateChecked(step);
                        double[] minus = Outputs();
                        point[k].Data[i] = original;
                        return plus.Select((p, j) => (p - minus[j]) / (2 * step)).ToArray();
                    }
                    double[] numeric = Difference(h);
                    double[]? wide = options.EstimateNumericError ? Difference(2 * h) : null;
                    for (int j = 0; j < outputs; j++)
                        report.Add(k, i, j, rows[j][k][i], numeric[j], wide is null ? 0 : options.NumericErrorFactor * Math.Abs(numeric[j] - wide[j]));
                }
        }
        else
        {
            for (int d = 0; d < options.Directions; d++)
            {
                // A random unit direction over all inputs together.
                var u = point.Select(p => Enumerable.Range(0, p.Size).Select(_ => rng.NextNormal()).ToArray()).ToArray();
                double norm = Math.Sqrt(u.Sum(a => a.Sum(v => v * v)));
                double predicted = 0;
                for (int k = 0; k < u.Length; k++)
                    for (int i = 0; i < u[k].Length; i++) { u[k][i] /= norm; predicted += analytic[k][i] * u[k][i]; }
                var originals = point.Select(p => p.ToArray()).ToArray();
                double Shifted(double s)
                {
                    for (int k = 0; k < point.Length; k++)
                        for (int i = 0; i < point[k].Size; i++) point[k].Data[i] = originals[k][i] + T.CreateChecked(s * u[k][i]);
                    return Loss();
                }
                double numeric = (Shifted(h) - Shifted(-h)) / (2 * h);
                double extra = options.EstimateNumericError
                    ? options.NumericErrorFactor * Math.Abs(numeric - (Shifted(2 * h) - Shifted(-2 * h)) / (4 * h)) : 0;
                for (int k = 0; k < point.Length; k++) originals[k].CopyTo(point[k].Data, 0);
                report.Add(-1, d, -1, predicted, numeric, extra);
            }
        }
        return report.Build();
    }

    /// <summary>
    /// Backward from <paramref name="y"/> into <paramref name="leaves"/> only: f may read other tensors that require
    /// gradients (a layer's weights, a state from the caller's graph), whose Grad the check must not change, so theirs
    /// are set aside and put back.
    /// </summary>
    private static void BackwardSparingOthers<T>(Tensor<T> y, Tensor<T> seed, Tensor<T>[] leaves)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var others = Tape.Current.RecordedExternalInputs().OfType<Tensor<T>>().Where(t => t.RequiresGrad && Array.IndexOf(leaves, t) < 0).ToArray();
        var saved = others.Select(t => t.Grad).ToArray();
        foreach (var t in others) t.Grad = null;
        try { y.Backward(seed); }
        finally { for (int i = 0; i < others.Length; i++) others[i].Grad = saved[i]; }
    }

    /// <summary>Convenience overload for a single input.</summary>
    public static GradCheckReport Check<T>(Func<Tensor<T>, Tensor<T>> f, Tensor<T> input, GradCheckOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T> => Check(xs => f(xs[0]), [input], options);
}
