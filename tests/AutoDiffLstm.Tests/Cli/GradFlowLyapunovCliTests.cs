using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary><c>adl gradflow --lyapunov</c> end to end at a tiny size: the figure, and one exponent per network that tracks the gradient decay.</summary>
public sealed class GradFlowLyapunovCliTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void ARadiusSweepReportsTheLargestExponentBesideTheMeasuredDecay()
    {
        string dir = temp.File("lyap");
        var json = CliRun.Json(CliRun.Expect(0, "gradflow", "--radii", "0.5,0.9", "--seq-len", "30", "--hidden", "4", "--batch", "2", "--lyapunov", "--out", dir, "--json"));
        CliRun.AssertFigure(Path.Combine(dir, "gradflow-radius-sweep-lyapunov"));
        var rows = json.GetProperty("lyapunov").EnumerateArray().ToArray();
        Assert.Equal(["rho = 0.5", "rho = 0.9"], rows.Select(r => r.GetProperty("curve").GetString()));
        foreach (var (row, rho) in rows.Zip(new[] { 0.5, 0.9 }))
        {
            double largest = row.GetProperty("largest_exponent").GetDouble();
            // Near the origin the tanh RNN is the linear map rho Q: λ_1 ≈ log rho, never above it.
            Assert.InRange(largest, Math.Log(rho) - 0.05, Math.Log(rho) + 1e-9);
            Assert.Equal(4, row.GetProperty("exponents").GetArrayLength());
            Assert.Equal(row.GetProperty("predicted_log10_change_per_step").GetDouble(), row.GetProperty("measured_log10_change_per_step").GetDouble(), 0.02);
        }
    }

    [Fact]
    public void CellsGetOneSpectrumEachOverAllTheirStates()
    {
        string dir = temp.File("lyap-cells");
        var json = CliRun.Json(CliRun.Expect(0, "gradflow", "--cell", "rnn,lstm,gru", "--seq-len", "10", "--hidden", "3", "--batch", "2", "--lyapunov", "--out", dir, "--json"));
        var rows = json.GetProperty("lyapunov").EnumerateArray().ToArray();
        Assert.Equal([3, 6, 3], rows.Select(r => r.GetProperty("exponents").GetArrayLength()));
        Assert.All(rows, r => Assert.True(double.IsFinite(r.GetProperty("largest_exponent").GetDouble())));
    }
}
