using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary>The cells added with the registry reach the command line: train (float and double, with its checkpoint) and gradflow.</summary>
public sealed class RegistryCellsCliTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("mingru", "--double")]
    [InlineData("minlstm", "--json")]
    [InlineData("indrnn", "--json")]
    [InlineData("janet", "--double")]
    [InlineData("lru", "--json")]
    public void TrainRunsEachNewCellAndWritesItsCheckpoint(string cell, string flag)
    {
        string dir = temp.File(cell);
        var json = CliRun.Json(CliRun.Expect(0, "train", "--cell", cell, "--task", "adding", "--seq-len", "10", "--hidden", "6", "--batch", "4",
            "--steps", "3", "--out", dir, "--json", flag));
        var result = json.GetProperty("result");
        Assert.Equal(3, result.GetProperty("losses").GetArrayLength());
        Assert.True(double.IsFinite(result.GetProperty("final_loss").GetDouble()));
        Assert.True(File.Exists(Path.Combine(dir, "checkpoint.safetensors")));
    }

    [Fact]
    public void GradFlowComparesTheNewCellsWithTheLstm()
    {
        string dir = temp.File("flow");
        var json = CliRun.Json(CliRun.Expect(0, "gradflow", "--cell", "lstm,mingru,minlstm,indrnn,janet", "--seq-len", "12", "--hidden", "4", "--batch", "2",
            "--json", "--out", dir));
        var curves = json.GetProperty("curves").EnumerateArray().Select(c => c.GetProperty("curve").GetString()!).ToArray();
        Assert.Equal(["lstm, forget bias ~0 (default)", "mingru", "minlstm", "indrnn", "janet"], curves);
    }

    [Fact]
    public void AnUnknownCellListsTheNewOnes()
    {
        // Any failing exit code: the command line's codes for usage errors are being reworked elsewhere.
        var result = CliRun.Run("train", "--cell", "mingruu", "--steps", "1", "--out", temp.File("bad"));
        Assert.NotEqual(0, result.Code);
        Assert.Contains("mingruu", result.Err + result.Out);
        Assert.Contains("minlstm", result.Err + result.Out);
    }
}
