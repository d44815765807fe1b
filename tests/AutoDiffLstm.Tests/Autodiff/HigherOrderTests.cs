using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>Gradients of gradients, Hessians, Jacobians and Gauss-Newton products through the public API.</summary>
public class HigherOrderTests
{
    private static Tensor<double> T(params double[] v) => Tensor.FromArray(v, v.Length);

    [Fact]
    public void GradOfGradOfACubeIsSixX()
    {
        var x = T(0.5, -1.5, 2).RequireGrad();
        var y = (x * x * x).Sum();
        var g = Autograd.Grad(y, [x], createGraph: true)[0];          // 3 x^2, differentiable
        Assert.True(g.RequiresGrad);
        var gg = Autograd.Grad(g.Sum(), [x])[0];                        // 6 x
        Approx.Equal([0.75, 6.75, 12], [.. g.ToArray()], 1e-12);
        Approx.Equal([3, -9, 12], [.. gg.ToArray()], 1e-12);
        Tape.Current.Reset();
    }

    [Fact]
    public void ThirdDerivativeOfTanhThroughThreeNestedGrads()
    {
        double v = 0.3;
        var x = T(v).RequireGrad();
        var g1 = Autograd.Grad(x.Tanh().Sum(), [x], createGraph: true)[0];
        var g2 = Autograd.Grad(g1.Sum(), [x], createGraph: true)[0];
        var g3 = Autograd.Grad(g2.Sum(), [x])[0];
        double t = Math.Tanh(v), s = 1 - t * t;
        Assert.Equal(s, g1.Item(), 1e-14);
        Assert.Equal(-2 * t * s, g2.Item(), 1e-14);
        Assert.Equal(-2 * s * s + 4 * t * t * s, g3.Item(), 1e-13);
        Tape.Current.Reset();
    }

    [Fact]
    public void GradWithoutCreateGraphReturnsConstantsAndLeavesGradUntouched()
    {
        var x = T(1, 2).RequireGrad();
        var g = Autograd.Grad((x * x).Sum(), [x])[0];
        Assert.False(g.RequiresGrad);
        Assert.Null(x.Grad);
        Approx.Equal([2, 4], [.. g.ToArray()], 1e-15);
        Assert.Equal(0, Tape.Current.Count); // freed as by Backward
    }

    [Fact]
    public void GradWithRespectToAnIntermediateAndAnUnusedInput()
    {
        var x = T(0.2, 0.4).RequireGrad();
        var unused = T(5).RequireGrad();
        var h = x.Tanh();
        var loss = (h * h).Sum();
        var g = Autograd.Grad(loss, [h, unused]);
        Approx.Equal([.. h.ToArray().Select(v => 2 * v)], [.. g[0].ToArray()], 1e-15);
        Assert.Equal([0.0], g[1].ToArray());
    }

    [Fact]
    public void HessianOfAQuadraticFormIsTheSymmetrisedMatrix()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2, 0 }, { -1, 3, 4 }, { 0.5, 0, 2 } });
        var x = T(0.3, -0.7, 1.1);
        var h = Autograd.Hessian<double>(v => v.Unsqueeze(0).MatMul(a).MatMul(v.Unsqueeze(1)).Sum(), x);
        Assert.Equal([3, 3], h.Shape);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(a[i, j] + a[j, i], h[i, j], 1e-12);
    }

    [Fact]
    public void HessianOfAnLstmLossIsSymmetricAndMatchesDifferencesOfGradients()
    {
        var layer = RecurrentLayer.Lstm<double>(2, 3, new Rng(3));
        var xs = Tensor.RandomNormal<double>(new Rng(4), [6, 1, 2]);
        var w = layer.NamedParameters()[1].Value; // weight_hh [12, 3]: 36 parameters
        Tensor<double> Loss(Tensor<double> whh)
        {
            var l = layer.WithParameters(layer.NamedParameters().Select(p => p.Key == "weight_hh_l0" ? new KeyValuePair<string, Tensor<double>>(p.Key, whh) : p));
            return l.Forward(xs).Output.Square().Sum();
        }
        var h = Autograd.Hessian<double>(Loss, w);
        int n = w.Size;
        double scale = h.ToArray().Max(Math.Abs);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                Assert.True(Math.Abs(h.ToArray()[i * n + j] - h.ToArray()[j * n + i]) <= 1e-12 * scale, $"H[{i},{j}] != H[{j},{i}]");
        // Column 5 against central differences of the gradient.
        const double step = 1e-5;
        var e5 = Tensor.Zeros<double>(w.Dims.ToArray());
        e5.AsWritableSpan()[5] = 1;
        var gPlus = Autograd.Vjp(p => Loss(p[0]), [w + e5 * step], Tensor.Scalar(1.0)).Cotangents[0];
        var gMinus = Autograd.Vjp(p => Loss(p[0]), [w - e5 * step], Tensor.Scalar(1.0)).Cotangents[0];
        for (int i = 0; i < n; i++)
            Assert.Equal((gPlus.ToArray()[i] - gMinus.ToArray()[i]) / (2 * step), h.ToArray()[i * n + 5], 1e-6 * (1 + scale));
    }

    [Fact]
    public void BothHvpModesAgree()
    {
        var rng = new Rng(8);
        var x = Tensor.RandomNormal<double>(rng, [4, 3]);
        var v = Tensor.RandomNormal<double>(rng, [4, 3]);
        Tensor<double> F(Tensor<double>[] p) => (p[0].Sigmoid() * p[0].Exp()).Softmax(-1).Log().Sum() + p[0].Square().Mean(1).Sqrt().Sum();
        var a = Autograd.Hvp(F, [x], [v], HvpMode.ForwardOverReverse)[0];
        var b = Autograd.Hvp(F, [x], [v], HvpMode.ReverseOverReverse)[0];
        Approx.Equal([.. b.ToArray()], [.. a.ToArray()], 1e-12);
    }

    [Fact]
    public void JacobianEqualsOneJvpPerColumnAndOneVjpPerRow()
    {
        var rng = new Rng(2);
        var m = Tensor.RandomNormal<double>(rng, [3, 5]);
        var x = Tensor.RandomNormal<double>(rng, [5]);
        // tanh(M x): J = diag(1 - y^2) M. Wide (m < n) takes rows by reverse mode; tall (m > n) columns by forward mode.
        var wide = Autograd.Jacobian<double>(v => m.MatMul(v.Unsqueeze(1)).Reshape(3).Tanh(), x);
        var y = m.MatMul(x.Unsqueeze(1)).Reshape(3).Tanh();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) Assert.Equal((1 - y[i] * y[i]) * m[i, j], wide[i, j], 1e-14);
        var tall = Autograd.Jacobian<double>(v => m.Transpose().MatMul(v.Unsqueeze(1)).Reshape(5).Tanh(), y);
        var z = m.Transpose().MatMul(y.Unsqueeze(1)).Reshape(5).Tanh();
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++) Assert.Equal((1 - z[i] * z[i]) * m[j, i], tall[i, j], 1e-14);
    }

    [Fact]
    public void GaussNewtonOfALinearModelUnderMseIsItsHessian()
    {
        // z = W x, L = mean((z - t)^2): L is quadratic in W, so G = H exactly.
        var rng = new Rng(5);
        var x = Tensor.RandomNormal<double>(rng, [4, 3]);
        var t = Tensor.RandomNormal<double>(rng, [4, 2]);
        var w = Tensor.RandomNormal<double>(rng, [2, 3]);
        var v = Tensor.RandomNormal<double>(rng, [2, 3]);
        var loss = GaussNewtonLoss<double>.MeanSquaredError(t);
        var gv = Autograd.GaussNewtonVectorProduct(p => x.Linear(p[0]), [w], loss, [v])[0];
        var hv = Autograd.Hvp(p => loss.Loss(x.Linear(p[0])), [w], [v])[0];
        Approx.Equal([.. hv.ToArray()], [.. gv.ToArray()], 1e-12);
    }

    [Fact]
    public void GaussNewtonUnderCrossEntropyIsJTransposeFisherJ()
    {
        var rng = new Rng(6);
        var x = Tensor.RandomNormal<double>(rng, [3, 2]);
        var w = Tensor.RandomNormal<double>(rng, [4, 2]);
        var v = Tensor.RandomNormal<double>(rng, [4, 2]);
        int[] targets = [0, 3, 1];
        Tensor<double> Model(Tensor<double> p) => x.Linear(p).Tanh().Reshape(-1); // [12], rows of 4 logits
        var gv = Autograd.GaussNewtonVectorProduct(p => Model(p[0]).Reshape(3, 4), [w], GaussNewtonLoss<double>.SoftmaxCrossEntropy(targets), [v])[0];
        // Explicitly: J [12, 8], F = blockdiag((diag p - p p^T) / 3), G v = J^T F J v.
        var j = Autograd.Jacobian(Model, w).Reshape(12, 8);
        var z = Model(w).Reshape(3, 4);
        var jv = j.MatMul(v.Reshape(8, 1)).Reshape(3, 4);
        var p = z.Softmax(-1);
        var fjv = (p * jv - p * (p * jv).Sum(-1, keepDim: true)) * (1.0 / 3);
        var expected = j.MatMul(fjv.Reshape(12, 1), transposeThis: true).Reshape(8);
        Approx.Equal([.. expected.ToArray()], [.. gv.ToArray()], 1e-12);
        Tape.Current.Reset();
    }

    [Fact]
    public void DirectionsOfTheWrongShapeAreRefusedNamingTheShapes()
    {
        var x = T(1, 2, 3);
        var e = Assert.Throws<ArgumentException>(() => Autograd.Jvp(p => p[0].Tanh(), [x], [T(1, 2)]));
        Assert.Contains("input 0 has shape [3] but its tangent has shape [2]", e.Message);
        var h = Assert.Throws<ArgumentException>(() => Autograd.Hvp(p => p[0].Sum(), [x], []));
        Assert.Contains("1 inputs but 0 directions", h.Message);
        var s = Assert.Throws<ArgumentException>(() => Autograd.Hvp(p => p[0].Tanh(), [x], [x]));
        Assert.Contains("f must return a scalar, got shape [3]", s.Message);
    }
}
