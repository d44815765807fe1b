namespace AutoDiffLstm.Tests;

public class SmokeTests
{
    [Fact]
    public void LinearTanhGradientsMatchFiniteDifferences()
    {
        var rng = new Rng(1);
        var x = Tensor.RandomNormal<double>(rng, [3, 4]);
        var w = Tensor.RandomNormal<double>(rng, [5, 4]);
        var b = Tensor.RandomNormal<double>(rng, [5]);
        var report = GradCheck.Check<double>(v => v[0].Linear(v[1], v[2]).Tanh(), [x, w, b]);
        Assert.True(report.Passed, report.ToString());
    }
}
