using System.Numerics;

namespace AutoDiffLstm;

public static partial class GradCheck
{
    /// <summary>
    /// Checks forward mode: along random unit directions v over all inputs, every element of the JVP
    /// (<see cref="Autograd.Jvp{T}(Func{Tensor{T}[], Tensor{T}}, Tensor{T}[], Tensor{T}[])"/>) against the central
    /// difference (f(x + h v) - f(x - h v)) / 2h, and the JVP against the VJP by the dot-product test
    /// &lt;J v, u&gt; = &lt;v, J^T u&gt; for a random u (so forward and reverse rules must agree with each other, not only
    /// with the finite differences). In double, as <see cref="Check{T}(Func{Tensor{T}[], Tensor{T}}, Tensor{T}[], GradCheckOptions?)"/>.
    /// </summary>
    public static GradCheckReport CheckJvp<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] inputs, GradCheckOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new GradCheckOptions();
        var rng = new Rng(options.Seed);
        var point = inputs.Select(x => x.Clone()).ToArray();
        var report = new GradCheckReport.Builder(options, GradCheckMode.Directional, FloatWarning<T>());
        double h = options.Step;
        for (int d = 0; d < options.Directions; d++)
        {
            var v = RandomUnitDirection<T>(rng, point);
            var (y, jv) = Autograd.Jvp(f, point, v);
            var plus = Evaluate(f, Shifted(point, v, h));
            var minus = Evaluate(f, Shifted(point, v, -h));
            for (int j = 0; j < y.Size; j++) report.Add(-1, d, j, double.CreateChecked(jv.Data[j]), (plus[j] - minus[j]) / (2 * h));
            // <J v, u> against <v, J^T u>: both sides analytic, so they agree to rounding when the rules are consistent.
            var u = Tensor.RandomNormal<T>(rng, y.Dims);
            var (_, jtu) = Autograd.Vjp(f, point, u);
            double left = Dot(jv, u), right = 0;
            for (int k = 0; k < point.Length; k++) right += Dot(v[k], jtu[k]);
            report.Add(-2, d, -1, left, right);
        }
        return report.Build();
    }

    /// <summary>
    /// Checks second derivatives: for L(x) = sum(w * f(x)) with random weights w and random unit directions v, the
    /// Hessian-vector product H v by both <see cref="HvpMode"/>s against central differences of the gradient,
    /// (grad L(x + h v) - grad L(x - h v)) / 2h, element by element. This exercises every primitive's differentiable
    /// backward rule (a gradient of a gradient) and, forward-over-reverse, its JVP of that backward pass.
    /// </summary>
    public static GradCheckReport CheckSecondOrder<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] inputs, GradCheckOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new GradCheckOptions();
        var rng = new Rng(options.Seed);
        var point = inputs.Select(x => x.Clone()).ToArray();
        Tensor<T>? weights = null;
        Tensor<T> Loss(Tensor<T>[] x)
        {
            var y = f(x);
            weights ??= Tensor.RandomNormal<T>(rng, y.Dims);
            return (y * weights).Sum();
        }
        var report = new GradCheckReport.Builder(options, GradCheckMode.Directional, FloatWarning<T>());
        double h = options.Step;
        for (int d = 0; d < options.Directions; d++)
        {
            var v = RandomUnitDirection<T>(rng, point);
            var forwardOverReverse = Autograd.Hvp(Loss, point, v, HvpMode.ForwardOverReverse);
            var reverseOverReverse = Autograd.Hvp(Loss, point, v, HvpMode.ReverseOverReverse);
            var gPlus = Autograd.Vjp(Loss, Shifted(point, v, h), Tensor.Scalar(T.One)).Cotangents;
            var gMinus = Autograd.Vjp(Loss, Shifted(point, v, -h), Tensor.Scalar(T.One)).Cotangents;
            for (int k = 0; k < point.Length; k++)
                for (int i = 0; i < point[k].Size; i++)
                {
                    double numeric = (double.CreateChecked(gPlus[k].Data[i]) - double.CreateChecked(gMinus[k].Data[i])) / (2 * h);
                    report.Add(k, i, d, double.CreateChecked(forwardOverReverse[k].Data[i]), numeric);
                    report.Add(k, i, d, double.CreateChecked(reverseOverReverse[k].Data[i]), numeric);
                }
        }
        return report.Build();
    }

    private static List<string> FloatWarning<T>() => typeof(T) == typeof(float)
        ? ["Checking float inputs: central differences in single precision carry errors around 1e-3; check in double for trustworthy results."]
        : [];

    private static Tensor<T>[] RandomUnitDirection<T>(Rng rng, Tensor<T>[] like) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var u = like.Select(p => Enumerable.Range(0, p.Size).Select(_ => rng.NextNormal()).ToArray()).ToArray();
        double norm = Math.Sqrt(u.Sum(a => a.Sum(x => x * x)));
        if (norm == 0) norm = 1;
        return like.Select((p, k) => new Tensor<T>((int[])p.Dims.Clone(), u[k].Select(x => T.CreateChecked(x / norm)).ToArray())).ToArray();
    }

    private static Tensor<T>[] Shifted<T>(Tensor<T>[] point, Tensor<T>[] v, double s) where T : unmanaged, IFloatingPointIeee754<T> =>
        point.Select((p, k) =>
        {
            var q = p.Clone();
            for (int i = 0; i < q.Size; i++) q.Data[i] += T.CreateChecked(s) * v[k].Data[i];
            return q;
        }).ToArray();

    private static double[] Evaluate<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var _ = Autograd.NoGrad();
        return f(x).ToArray().Select(v => double.CreateChecked(v)).ToArray();
    }

    private static double Dot<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        for (int i = 0; i < a.Size; i++) s += double.CreateChecked(a.Data[i]) * double.CreateChecked(b.Data[i]);
        return s;
    }
}
