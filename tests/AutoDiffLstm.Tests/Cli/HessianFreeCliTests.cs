using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary><c>adl train --optimizer hf</c> and <c>--curvature-every</c> end to end at tiny sizes, and their worded refusals.</summary>
public sealed class HessianFreeCliTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly string[] Tiny = ["train", "--cell", "rnn", "--task", "adding", "--seq-len", "8", "--hidden", "4", "--batch", "8", "--double"];

    [Fact]
    public void HessianFreeTrainsAndRecordsEveryStep()
    {
        string dir = temp.File("hf");
        var result = CliRun.Json(CliRun.Expect(0, [.. Tiny, "--optimizer", "hf", "--hf-cg-iters", "8", "--hf-curvature-batch", "4", "--hf-structural-damping", "0.3",
            "--steps", "4", "--eval-every", "0", "--out", dir, "--json"])).GetProperty("result");
        Assert.Equal("completed", result.GetProperty("status").GetString());
        var steps = result.GetProperty("hessian_free").EnumerateArray().ToArray();
        Assert.Equal(4, steps.Length);
        Assert.Equal(1.0, steps[0].GetProperty("damping").GetDouble());
        foreach (var s in steps)
        {
            Assert.InRange(s.GetProperty("cg_iterations").GetInt32(), 1, 8);
            Assert.InRange(s.GetProperty("chosen_iteration").GetInt32(), 1, s.GetProperty("cg_iterations").GetInt32());
            Assert.InRange(s.GetProperty("step_size").GetDouble(), 0, 1);
        }
        // The damping follows the Levenberg-Marquardt rule: each step's λ is the last one times 3/2, 1 or 2/3.
        for (int k = 1; k < steps.Length; k++)
        {
            double ratio = steps[k].GetProperty("damping").GetDouble() / steps[k - 1].GetProperty("damping").GetDouble();
            Assert.Contains(new[] { 1.5, 1.0, 2.0 / 3.0 }, f => Math.Abs(f - ratio) < 1e-12);
        }
        Assert.True(double.IsFinite(result.GetProperty("final_loss").GetDouble()));
    }

    [Fact]
    public void AResumedHessianFreeRunContinuesExactly()
    {
        // The damping and the CG warm start are optimizer state in the checkpoint, so 2 + 2 steps equal 4 steps.
        string whole = temp.File("whole"), split = temp.File("split");
        string[] hf = [.. Tiny, "--optimizer", "hf", "--hf-cg-iters", "6", "--eval-every", "0"];
        CliRun.Expect(0, [.. hf, "--steps", "4", "--out", whole]);
        CliRun.Expect(0, [.. hf, "--steps", "2", "--out", split]);
        CliRun.Expect(0, "train", "--resume", Path.Combine(split, "checkpoint.safetensors"), "--steps", "4");
        double[] Losses(string dir) => CliRun.JsonFile(Path.Combine(dir, "train-result.json")).GetProperty("losses").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(Losses(whole), Losses(split));
        Assert.Equal(4, Losses(whole).Length);
    }

    [Fact]
    public void CurvatureEveryMeasuresTheSpectrumAndDrawsIt()
    {
        string dir = temp.File("curvature");
        var result = CliRun.Json(CliRun.Expect(0, [.. Tiny, "--optimizer", "adam", "--curvature-every", "2", "--curvature-top", "2", "--steps", "4", "--out", dir, "--json"])).GetProperty("result");
        var measured = result.GetProperty("curvature").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 4], measured.Select(m => m.GetProperty("step").GetInt32()));
        foreach (var m in measured)
        {
            var hessian = m.GetProperty("hessian_top").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var gaussNewton = m.GetProperty("gauss_newton_top").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(2, hessian.Length);
            Assert.True(hessian[0] >= hessian[1] && gaussNewton[0] >= gaussNewton[1], "eigenvalues come in descending order");
            Assert.True(gaussNewton[1] > 0, "the Gauss-Newton matrix of a mean-squared loss is positive semi-definite");
            Assert.True(m.GetProperty("hessian_smallest").GetDouble() <= hessian[1]);
        }
        CliRun.AssertFigure(Path.Combine(dir, "train-curvature"));
    }

    [Theory]
    [InlineData(new[] { "--optimizer", "hf", "--clip", "1" }, "--clip and --clip-value apply to first-order optimizers")]
    [InlineData(new[] { "--optimizer", "hf", "--hf-cg-iters", "0" }, "--hf-cg-iters must be at least 1, got 0")]
    [InlineData(new[] { "--optimizer", "hf", "--hf-damping", "-1" }, "--hf-damping must be a positive finite number, got -1")]
    [InlineData(new[] { "--optimizer", "hf", "--hf-curvature-batch", "9" }, "--hf-curvature-batch must be between 0 (a quarter of --batch) and --batch 8")]
    [InlineData(new[] { "--optimizer", "hf", "--schedule", "cosine" }, "not --optimizer hf (it takes no learning rate)")]
    [InlineData(new[] { "--optimizer", "adam", "--hf-damping", "2" }, "the --hf-* options apply to --optimizer hf only, not 'adam'")]
    [InlineData(new[] { "--curvature-every", "-1" }, "--curvature-every must be >= 0 (0: never), got -1")]
    [InlineData(new[] { "--curvature-top", "0" }, "--curvature-top must be at least 1, got 0")]
    public void BadOptionsAreRefusedInWords(string[] options, string message)
    {
        string dir = temp.File("bad");
        var result = CliRun.Expect(2, [.. Tiny, "--steps", "2", "--out", dir, .. options]);
        Assert.Contains(message, result.Err);
        Assert.False(Directory.Exists(dir), "a refused run must not create its output directory");
    }
}
