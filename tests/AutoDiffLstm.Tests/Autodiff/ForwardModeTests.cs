namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>Forward mode through the public API: values, tangents, parameters that are not primals, errors.</summary>
public class ForwardModeTests
{
    [Fact]
    public void JvpOfAnElementwiseChainIsTheDerivativeTimesTheTangent()
    {
        var x = Tensor.FromArray([0.1, -0.4, 2.0], 3);
        var v = Tensor.FromArray([1.0, 2.0, -1.0], 3);
        var (y, t) = Autograd.Jvp(p => p[0].Sigmoid().Log(), [x], [v]);
        for (int i = 0; i < 3; i++)
        {
            double s = 1 / (1 + Math.Exp(-x[i]));
            Assert.Equal(Math.Log(s), y[i], 1e-15);
            Assert.Equal((1 - s) * v[i], t[i], 1e-15); // d/dx log sigmoid x = 1 - sigmoid x
        }
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void ParametersTheFunctionReadsHaveZeroTangentsAndKeepTheirGradients()
    {
        var w = Tensor.FromArray([2.0, 3.0], 2).RequireGrad();
        var x = Tensor.FromArray([1.0, 1.0], 2);
        var (_, t) = Autograd.Jvp(p => (p[0] * w).Sum(), [x], [Tensor.FromArray([1.0, 0.0], 2)]);
        Assert.Equal(2.0, t.Item(), 15);
        Assert.Null(w.Grad);
    }

    [Fact]
    public void CallersTapeIsUntouched()
    {
        var a = Tensor.FromArray([1.0], 1).RequireGrad();
        var b = a.Exp();
        int before = Tape.Current.Count;
        Autograd.Jvp(p => p[0].Tanh(), [a], [a]);
        Assert.Equal(before, Tape.Current.Count);
        b.Sum().Backward();
        Assert.Equal(Math.E, a.Grad!.Item(), 14);
    }

    [Fact]
    public void ATangentForAnOutputThatIgnoresTheInputIsZero()
    {
        var (_, t) = Autograd.Jvp(p => Tensor.Ones<double>(2), [Tensor.Ones<double>(3)], [Tensor.Ones<double>(3)]);
        Assert.Equal([0.0, 0.0], t.ToArray());
    }

    [Fact]
    public void AnOperationWithoutARuleIsNamed()
    {
        var e = Assert.Throws<NotSupportedException>(() =>
            Autograd.Jvp(p => GradientCheckpoint.Run(xs => xs[0].Tanh(), p), [Tensor.Ones<double>(2)], [Tensor.Ones<double>(2)]));
        Assert.StartsWith("Checkpoint:", e.Message);
    }
}
