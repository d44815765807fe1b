using System.Globalization;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// One property, parameterised by the catalogue: for random shapes and values of each primitive the analytic gradient
/// equals central finite differences. In double through <see cref="GradCheck"/> (full Jacobian up to 64 elements,
/// random directions above); in float by comparing the float backward pass against double differences of the same call.
/// A failure is shrunk to the smallest shapes and plainest values and reported with the spec, the shapes, the case and
/// the check's own report; FsCheck prints the seed to replay it.
/// </summary>
public class PrimitiveGradientProperties
{
    private const int CasesPerPrimitive = 100;
    private const int FloatCasesPerPrimitive = 50;

    [Theory]
    [MemberData(nameof(PrimitiveSpecs.Names), MemberType = typeof(PrimitiveSpecs))]
    public void DoubleGradientsMatchCentralDifferences(string primitive)
    {
        var spec = PrimitiveSpecs.Get<double>(primitive);
        Prop.ForAll(PrimitiveCases.For(spec), c => Guarded(spec.Name, c, () =>
            {
                var options = new GradCheckOptions { Step = spec.Regimes[c.Draw.Regime].Step, Seed = SeedOf(c) };
                var report = GradCheck.Check<double>(x => spec.Apply(c, x), Inputs<double>(c), options);
                return (report.Passed, $"{spec.Name} on {c.Shapes}: {report}");
            }))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(CasesPerPrimitive));
    }

    /// <summary>
    /// Float gradients against double central differences of the same call at the same (float-representable) point.
    /// The loss is L = sum(w * f(x)) with random weights w; the float backward pass gives dL/dx, and the reference is
    /// sum_j w_j (f_j(x + h e_i) - f_j(x - h e_i)) / 2h in double (differences of outputs, not of sums, so outputs the
    /// perturbation does not touch cancel exactly). Tolerance per gradient element i:
    ///   |g_float - g_numeric| &lt;= 16 eps_f (1 + X) (|g_i| + S + W) + 1e-7 (1 + S)
    /// with eps_f = 2^-23 ~ 1.2e-7, X = the largest |input|, S = the largest |reference gradient element| of that input and
    /// W = the largest |w|. Why: each float operation is exact up to a relative eps_f and a primitive chains only a
    /// handful of them per element (16 covers them and the sums of up to 5 terms in matmul, softmax and reductions); the
    /// errors are relative to the size of the terms, not of a possibly cancelled result, hence S, and of the upstream
    /// gradient where a rule cancels (1 - y^2 at y ~ 1 in tanh, p - 1 in cross-entropy: TensorPrimitives' float exp(0) is
    /// 1 + eps_f), hence W; an input of size X becomes an absolute error eps_f X inside exp and log-sum-exp (x - max at
    /// |x| = 1000 is off by ~1.2e-4), which the gradient carries, hence (1 + X). So the bound is ~8e-6 relative for
    /// inputs of size 3 and ~2e-3 for logits of 1000, while a wrong rule errs by O(S + W). The last term bounds the double
    /// reference (rounding ~1e-16 |f| / h and O(h^2) truncation, both well below 1e-7 on the catalogue's ranges).
    /// </summary>
    [Theory]
    [MemberData(nameof(PrimitiveSpecs.Names), MemberType = typeof(PrimitiveSpecs))]
    public void FloatGradientsMatchDoubleDifferencesWithinFloatTolerance(string primitive)
    {
        var floatSpec = PrimitiveSpecs.Get<float>(primitive);
        var doubleSpec = PrimitiveSpecs.Get<double>(primitive);
        Prop.ForAll(PrimitiveCases.For(floatSpec), c => Guarded(floatSpec.Name, c, () =>
            {
                var (ok, worst) = FloatAgainstDouble(floatSpec, doubleSpec, c);
                return (ok, $"{floatSpec.Name} (float) on {c.Shapes}: {worst}");
            }))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(FloatCasesPerPrimitive));
    }

    internal const double FloatEpsilon = 1.1920929e-7;

    internal static (bool Ok, string Worst) FloatAgainstDouble(PrimitiveSpec<float> floatSpec, PrimitiveSpec<double> doubleSpec, PrimitiveCase c)
    {
        var xf = Inputs<float>(c);
        // The double point is the float point widened exactly, so only the arithmetic differs.
        var xd = xf.Select(t => new Tensor<double>(t.Dims, t.Data.Select(v => (double)v).ToArray())).ToArray();

        Tape.Current.Reset();
        var leaves = xf.Select(t => t.Clone().RequireGrad()).ToArray();
        var y = floatSpec.Apply(c, leaves);
        var weights = Tensor.RandomNormal<float>(new Rng(SeedOf(c)), [.. y.Shape]);
        y.Backward(weights);
        var w = weights.Data.Select(v => (double)v).ToArray();

        double[] Outputs()
        {
            using var _ = Autograd.NoGrad();
            return doubleSpec.Apply(c, xd).ToArray();
        }

        double h = doubleSpec.Regimes[c.Draw.Regime].Step;
        double x = xd.Max(t => t.Size == 0 ? 0 : t.Data.Max(Math.Abs));
        double wMax = w.Length == 0 ? 0 : w.Max(Math.Abs);
        double worstExcess = double.NegativeInfinity;
        string worst = "nothing compared";
        bool ok = true;
        for (int k = 0; k < xd.Length; k++)
        {
            var analytic = leaves[k].Grad?.Data.Select(v => (double)v).ToArray() ?? new double[xd[k].Size];
            var numeric = new double[xd[k].Size];
            for (int i = 0; i < numeric.Length; i++)
            {
                double original = xd[k].Data[i];
                xd[k].Data[i] = original + h;
                double[] plus = Outputs();
                xd[k].Data[i] = original - h;
                double[] minus = Outputs();
                xd[k].Data[i] = original;
                double sum = 0;
                for (int j = 0; j < w.Length; j++) sum += w[j] * (plus[j] - minus[j]);
                numeric[i] = sum / (2 * h);
            }
            double scale = numeric.Length == 0 ? 0 : numeric.Max(Math.Abs);
            for (int i = 0; i < numeric.Length; i++)
            {
                double error = Math.Abs(analytic[i] - numeric[i]);
                double allowed = 16 * FloatEpsilon * (1 + x) * (Math.Abs(numeric[i]) + scale + wMax) + 1e-7 * (1 + scale);
                bool fine = error <= allowed; // NaN fails
                ok &= fine;
                double excess = double.IsNaN(error) ? double.PositiveInfinity : error / allowed;
                if (excess > worstExcess)
                {
                    worstExcess = excess;
                    worst = string.Create(CultureInfo.InvariantCulture,
                        $"worst at input {k}[{i}]: float analytic {analytic[i]:G9} vs double numeric {numeric[i]:G12}, error {error:G3} of allowed {allowed:G3} (max |input| {x:G4}, gradient scale {scale:G4})");
                }
            }
        }
        return (ok, worst);
    }

    /// <summary>The property's verdict with a label naming the primitive and the case; an exception is a failure, not a crash.</summary>
    internal static Property Guarded(string name, PrimitiveCase c, Func<(bool Ok, string Message)> check)
    {
        try
        {
            var (ok, message) = check();
            return ok.Label($"{message}\ncase: {c}");
        }
        catch (Exception e)
        {
            return false.Label($"{name} threw on {c.Shapes}: {e.GetType().Name}: {e.Message}\ncase: {c}");
        }
        finally { Tape.Current.Reset(); }
    }

    internal static Tensor<T>[] Inputs<T>(PrimitiveCase c) where T : unmanaged, IFloatingPointIeee754<T> =>
        c.Layout.Shapes.Select((s, i) => new Tensor<T>((int[])s.Clone(), c.Values[i].Select(T.CreateChecked).ToArray())).ToArray();

    /// <summary>A seed for the check's random weights and directions that varies with the case but is fixed for it (shrinking stays deterministic).</summary>
    internal static ulong SeedOf(PrimitiveCase c)
    {
        ulong h = 1469598103934665603UL;
        void Mix(long v) { h ^= (ulong)v; h *= 1099511628211UL; }
        foreach (var s in c.Layout.Shapes) foreach (int d in s) Mix(d);
        foreach (var vs in c.Values) foreach (double v in vs) Mix(BitConverter.DoubleToInt64Bits(v));
        foreach (int a in c.Args) Mix(a);
        foreach (int id in c.Ids) Mix(id);
        return h;
    }
}
