using AutoDiffLstm.Training;
using static AutoDiffLstm.Tests.Training.OptimizerTestHelpers;

namespace AutoDiffLstm.Tests.Training;

public class OptimizerCommonTests
{
    public static TheoryData<string> Configurations() =>
        ["sgd", "sgd-momentum-wd", "sgd-nesterov", "adam-l2", "adamw", "rmsprop", "rmsprop-centered-momentum-wd"];

    // Lengths that exercise whole SIMD vectors, a partial tail, and a tail only (vector widths are 2..8 doubles, 4..16 floats).
    private static readonly int[] Lengths = [1, 3, 7, 16, 37];

    private static Optimizer<TT> Make<TT>(string config, IReadOnlyList<Tensor<TT>> ps) where TT : unmanaged, System.Numerics.IFloatingPointIeee754<TT> => config switch
    {
        "sgd" => new Sgd<TT>(ps, 0.05),
        "sgd-momentum-wd" => new Sgd<TT>(ps, 0.05, momentum: 0.8, weightDecay: 0.03),
        "sgd-nesterov" => new Sgd<TT>(ps, 0.05, momentum: 0.8, nesterov: true),
        "adam-l2" => new Adam<TT>(ps, 0.01, 0.8, 0.95, 1e-6, weightDecay: 0.02),
        "adamw" => new AdamW<TT>(ps, 0.01, 0.8, 0.95, 1e-6, weightDecay: 0.02),
        "rmsprop" => new RmsProp<TT>(ps, 0.01, 0.9, 1e-6),
        "rmsprop-centered-momentum-wd" => new RmsProp<TT>(ps, 0.01, 0.9, 1e-6, weightDecay: 0.02, momentum: 0.7, centered: true),
        _ => throw new ArgumentException(config),
    };

    private static void Reference(string config, double[] p, double[] g, double[][] s, int t)
    {
        switch (config)
        {
            case "sgd": ReferenceOptimizers.Sgd(p, g, s[0], t, 0.05, 0, false, 0); break;
            case "sgd-momentum-wd": ReferenceOptimizers.Sgd(p, g, s[0], t, 0.05, 0.8, false, 0.03); break;
            case "sgd-nesterov": ReferenceOptimizers.Sgd(p, g, s[0], t, 0.05, 0.8, true, 0); break;
            case "adam-l2": ReferenceOptimizers.Adam(p, g, s[0], s[1], t, 0.01, 0.8, 0.95, 1e-6, 0.02, false); break;
            case "adamw": ReferenceOptimizers.Adam(p, g, s[0], s[1], t, 0.01, 0.8, 0.95, 1e-6, 0.02, true); break;
            case "rmsprop": ReferenceOptimizers.RmsProp(p, g, s[0], s[1], s[2], 0.01, 0.9, 1e-6, 0, 0, false); break;
            case "rmsprop-centered-momentum-wd": ReferenceOptimizers.RmsProp(p, g, s[0], s[1], s[2], 0.01, 0.9, 1e-6, 0.02, 0.7, true); break;
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void SimdUpdateMatchesTheScalarReferenceForEveryLength(string config)
    {
        var rng = new Rng(7);
        var ps = Lengths.Select(n => Tensor.RandomNormal<double>(rng, [n]).RequireGrad()).ToArray();
        var fs = ps.Select(p => Tensor.FromArray(p.ToArray().Select(x => (float)x).ToArray()).RequireGrad()).ToArray();
        var expected = ps.Select(p => p.ToArray()).ToArray();
        var state = ps.Select(p => new[] { new double[p.Size], new double[p.Size], new double[p.Size] }).ToArray();
        var opt = Make(config, ps);
        var optF = Make(config, fs);
        for (int t = 1; t <= 3; t++)
        {
            for (int k = 0; k < ps.Length; k++)
            {
                var g = Tensor.RandomNormal<double>(rng, [ps[k].Size]);
                ps[k].Grad = g;
                fs[k].Grad = Tensor.FromArray(g.ToArray().Select(x => (float)x).ToArray());
                Reference(config, expected[k], g.ToArray(), state[k], t);
            }
            opt.Step();
            optF.Step();
            for (int k = 0; k < ps.Length; k++)
            {
                AssertClose(expected[k], ps[k].AsSpan(), 1e-12);
                AssertClose(expected[k], fs[k].AsSpan(), 2e-5);
            }
        }
    }

    [Fact]
    public void ParametersWithoutGradientsAreSkipped()
    {
        var a = Param(1, 2);
        var b = Param(3, 4);
        var opt = new Sgd<double>([a, b], 0.1, momentum: 0.9, weightDecay: 0.5);
        SetGrad(a, 1, 1);
        opt.Step();
        Assert.Equal([3.0, 4.0], b.ToArray());
        Assert.Equal(0, opt.StepCount(1));
        Assert.Equal(1, opt.StepsTaken);
    }

    [Fact]
    public void ZeroGradSetsGradientsToNullOrZeroFillsThemInPlace()
    {
        var a = Param(1, 2);
        var b = Param(3, 4);
        var opt = new Sgd<double>([a, b], 0.1);
        SetGrad(a, 5, 6);
        SetGrad(b, 7, 8);
        var kept = a.Grad;
        opt.ZeroGrad(setToNull: false);
        Assert.Same(kept, a.Grad);
        Assert.Equal([0.0, 0.0], a.Grad!.ToArray());
        Assert.Equal([0.0, 0.0], b.Grad!.ToArray());
        opt.ZeroGrad();
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
    }

    [Fact]
    public void WorksWithGradientsFromBackward()
    {
        // loss = Σ w², dloss/dw = 2w: one SGD step with lr 0.25 halves w.
        var w = Param(2, -4);
        var opt = new Sgd<double>([w], 0.25);
        w.Square().Sum().Backward();
        opt.Step();
        Assert.Equal([1.0, -2.0], w.ToArray());
    }

    [Fact]
    public void GradientWithTheWrongSizeThrowsBeforeAnythingIsUpdated()
    {
        var ok = Param(5, 6);
        var a = Param(1, 2);
        var opt = new Adam<double>([ok, a]);
        SetGrad(ok, 1, 1);
        a.Grad = Tensor.FromArray(new double[] { 1, 2, 3 });
        var e = Assert.Throws<InvalidOperationException>(opt.Step);
        Assert.Contains("[2]", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Equal([5.0, 6.0], ok.ToArray());
        Assert.Equal(0, opt.StepCount(0));
    }

    [Fact]
    public void StepAllocatesNothingOnceWarm()
    {
        var rng = new Rng(3);
        var ps = new[] { Tensor.RandomNormal<float>(rng, [1000]).RequireGrad(), Tensor.RandomNormal<float>(rng, [13]).RequireGrad() };
        foreach (var p in ps) p.Grad = Tensor.RandomNormal<float>(rng, [p.Size]);
        foreach (var opt in new Optimizer<float>[] { new Sgd<float>(ps, 0.01, 0.9, true, 0.1), new AdamW<float>(ps), new RmsProp<float>(ps, momentum: 0.5, centered: true) })
        {
            opt.Step();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) opt.Step();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
