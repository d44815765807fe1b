using System.Runtime.Intrinsics;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>
/// Our single-precision Sigmoid and Tanh kernels (what float tensors use on AVX-512 and AVX2; called directly here, so
/// the checks run on any hardware) against the correctly rounded value of the double-precision function: within 2 ulp
/// (Sigmoid) and 1 ulp (Tanh) wherever the result is a normal float, exact saturation, NaN kept, Tanh exactly odd, an
/// element's value independent of its position in the array (the tail goes through the same code as the body), and the
/// same bits at 256 and 512 bits: both against a scalar model of the algorithm, step by step.
/// </summary>
public class ActivationKernelTests
{
    /// <summary>A dense sweep of [-120, 120], every power of two and its neighbours, and the special values.</summary>
    private static float[] Inputs()
    {
        var xs = new List<float>();
        for (float v = -120f; v <= 120f; v += 0.00173f) xs.Add(v);
        for (int e = -149; e <= 127; e++)
        {
            float p = MathF.ScaleB(1f, e);
            xs.AddRange([p, -p, MathF.BitIncrement(p), -MathF.BitDecrement(p), 1.37f * p, -1.37f * p]);
        }
        xs.AddRange([0f, -0f, 0.25f, -0.25f, MathF.BitDecrement(0.25f), 88.7f, -88.7f, 89f, -89f, 103.9f, -104.5f,
            float.MaxValue, float.MinValue, float.Epsilon, float.PositiveInfinity, float.NegativeInfinity, float.NaN]);
        return xs.Where(float.IsFinite).Concat([float.PositiveInfinity, float.NegativeInfinity, float.NaN]).ToArray();
    }

    /// <summary>Distance in units in the last place between <paramref name="got"/> and the float nearest <paramref name="exact"/>.</summary>
    private static long Ulps(float got, double exact)
    {
        float want = (float)exact;
        if (got == want) return 0;
        if (float.IsNaN(got) || float.IsNaN(want) || Math.Sign(got) != Math.Sign(want)) return long.MaxValue;
        return Math.Abs((long)BitConverter.SingleToInt32Bits(got) - BitConverter.SingleToInt32Bits(want));
    }

    private static void WithinUlps(Action<ReadOnlySpan<float>, Span<float>> kernel, Func<double, double> exact, long bound, string name)
    {
        var x = Inputs();
        var y = new float[x.Length];
        kernel(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double want = exact(x[i]);
            if (double.IsNaN(want)) { Assert.True(float.IsNaN(y[i]), $"{name}({x[i]:R}) = {y[i]:R}, expected NaN"); continue; }
            if (Math.Abs(want) < 1.1754944e-38) // a subnormal result: absolute accuracy
            {
                Assert.True(Math.Abs(y[i] - want) <= 1.2e-38, $"{name}({x[i]:R}) = {y[i]:R}, expected {want:R} (subnormal range)");
                continue;
            }
            long u = Ulps(y[i], want);
            Assert.True(u <= bound, $"{name}({x[i]:R}) = {y[i]:R}, expected {(float)want:R}: {u} ulp, bound {bound}");
        }
    }

    [Fact]
    public void SigmoidIsWithinTwoUlpsOfTheRoundedExactValue() =>
        WithinUlps(Activations.SigmoidSingle, v => 1 / (1 + Math.Exp(-v)), 2, "sigmoid");

    [Fact]
    public void TanhIsWithinOneUlpOfTheRoundedExactValue() =>
        WithinUlps(Activations.TanhSingle, Math.Tanh, 1, "tanh");

    [Fact]
    public void BothSaturateExactlyKeepNaNAndTanhIsExactlyOdd()
    {
        float[] x = [-1000f, 0f, -0f, 45f, 1000f, float.NegativeInfinity, float.PositiveInfinity, float.NaN];
        var s = new float[x.Length];
        var t = new float[x.Length];
        Activations.SigmoidSingle(x, s);
        Activations.TanhSingle(x, t);
        Assert.Equal([0f, 0.5f, 0.5f, 1f, 1f, 0f, 1f], s[..7]);
        Assert.True(float.IsNaN(s[7]));
        Assert.Equal([-1f, 0f, -0f, 1f, 1f, -1f, 1f], t[..7]);
        Assert.True(float.IsNegative(t[2]), "tanh(-0) must be -0");
        Assert.True(float.IsNaN(t[7]));

        var xs = Inputs().Where(float.IsFinite).ToArray();
        var plus = new float[xs.Length];
        var minus = new float[xs.Length];
        Activations.TanhSingle(xs, plus);
        Activations.TanhSingle(xs.Select(v => -v).ToArray(), minus);
        for (int i = 0; i < xs.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(-plus[i]) == BitConverter.SingleToInt32Bits(minus[i]), $"tanh(-{xs[i]:R}) != -tanh({xs[i]:R})");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(40)]
    public void AnElementsValueDoesNotDependOnItsPositionInTheArray(int length)
    {
        var values = Tensor.RandomNormal<float>(new Rng(3), [length], std: 3).ToArray();
        foreach (var kernel in new Action<ReadOnlySpan<float>, Span<float>>[] { Activations.SigmoidSingle, Activations.TanhSingle })
        {
            var whole = new float[length];
            kernel(values, whole);
            for (int i = 0; i < length; i++)
            {
                // The same value as the first element of a full vector (body) and alone (tail).
                var body = Enumerable.Repeat(values[i], Vector512<float>.Count + 1).ToArray();
                var alone = new float[1];
                kernel(body, body);
                kernel(values.AsSpan(i, 1), alone);
                Assert.Equal(BitConverter.SingleToInt32Bits(body[0]), BitConverter.SingleToInt32Bits(whole[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(alone[0]), BitConverter.SingleToInt32Bits(whole[i]));
            }
        }
    }

    /// <summary>
    /// The kernels' algorithm one element at a time, each vector operation as the scalar IEEE operation it is per lane;
    /// AVX-512's vscalefps (p 2^n, rounded once) as the double product p 2^n (exact) rounded to float.
    /// </summary>
    private static class Model
    {
        private static float Exp(float x)
        {
            x = MathF.Min(MathF.Max(x, -104f), 89f);
            float n = MathF.Round(x * 1.44269504088896341f);
            float r = MathF.FusedMultiplyAdd(n, -0.693359375f, x);
            r = MathF.FusedMultiplyAdd(n, 2.12194440e-4f, r);
            float p = 1f / 5040;
            foreach (float c in new[] { 1f / 720, 1f / 120, 1f / 24, 1f / 6, 0.5f, 1f, 1f }) p = MathF.FusedMultiplyAdd(p, r, c);
            return (float)(p * Math.ScaleB(1.0, (int)n));
        }

        public static float Sigmoid(float x) => float.IsNaN(x) ? x : 1f / (1f + Exp(-x));

        public static float Tanh(float x)
        {
            if (float.IsNaN(x)) return x;
            float a = MathF.Abs(x), a2 = a * a, t;
            if (a < 0.55f)
            {
                float q = 6404582f / 10854718875;
                foreach (float c in new[] { -929569f / 638512875, 21844f / 6081075, -1382f / 155925, 62f / 2835, -17f / 315, 2f / 15, -1f / 3 })
                    q = MathF.FusedMultiplyAdd(q, a2, c);
                t = MathF.FusedMultiplyAdd(q * a2, a, a);
            }
            else t = 1f - 2f / (Exp(a + a) + 1f);
            return MathF.CopySign(t, x);
        }
    }

    private static void SameBitsAsTheModel(Action<ReadOnlySpan<float>, Span<float>> kernel, Func<float, float> model, string name)
    {
        var x = Inputs();
        var y = new float[x.Length];
        kernel(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            float want = model(x[i]);
            if (float.IsNaN(want)) Assert.True(float.IsNaN(y[i]), $"{name}({x[i]:R}) = {y[i]:R}, expected NaN");
            else Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(y[i]), $"{name}({x[i]:R}) = {y[i]:R}, the model gives {want:R}");
        }
    }

    [Fact]
    public void TheKernelsGiveTheModelsBitsAt256BitsAndWhereAvx512RunsAt512()
    {
        SameBitsAsTheModel(Activations.SigmoidNarrow, Model.Sigmoid, "sigmoid at 256 bits");
        SameBitsAsTheModel(Activations.TanhNarrow, Model.Tanh, "tanh at 256 bits");
        // Elsewhere SigmoidSingle is the 256-bit kernel just checked: vscalefps exists only on AVX-512.
        if (!Vector512.IsHardwareAccelerated) return;
        SameBitsAsTheModel(Activations.SigmoidSingle, Model.Sigmoid, "sigmoid at 512 bits");
        SameBitsAsTheModel(Activations.TanhSingle, Model.Tanh, "tanh at 512 bits");
    }
}
