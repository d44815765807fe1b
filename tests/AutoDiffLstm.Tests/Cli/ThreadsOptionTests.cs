using AutoDiffLstm.Experiments.Papers;
using AutoDiffLstm.Tests.IO;
using AutoDiffLstm.Tests.Papers;
using AutoDiffLstm.Tests.Kernels;

namespace AutoDiffLstm.Tests.Cli;

/// <summary>
/// <c>--threads</c>, accepted by every command: it sets <see cref="Parallelism.MaxThreads"/> for the command, the run
/// records it next to its speed, results do not depend on it, and the previous setting comes back afterwards.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public sealed class ThreadsOptionTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private System.Text.Json.JsonElement Train(params string[] threads) =>
        CliRun.Json(CliRun.Expect(0, ["train", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--steps", "3", "--json", "--out", temp.File("run" + string.Join("", threads)), .. threads]))
            .GetProperty("result");

    [Fact]
    public void TheCommandRunsWithTheGivenThreadsAndTheSettingIsRestored()
    {
        int before = Parallelism.MaxThreads;
        var one = Train("--threads", "1");
        var three = Train("--threads", "3");
        Assert.Equal(before, Parallelism.MaxThreads);
        Assert.Equal(1, one.GetProperty("threads").GetInt32());
        Assert.Equal(3, three.GetProperty("threads").GetInt32());
        Assert.Equal(before, Train().GetProperty("threads").GetInt32());
        Assert.Equal(one.GetProperty("losses").ToString(), three.GetProperty("losses").ToString());
    }

    [Fact]
    public void APaperStatesTheCoresItWasAllowed()
    {
        // "took N minutes on K shared cores": K is what the run could use, not the machine's count.
        string dir = temp.File("paper");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(PaperTestFiles.Folder("gradient-flow"), PaperGenerator.PaperFile), Path.Combine(dir, PaperGenerator.PaperFile));
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var run = PaperGenerator.Generate("gradient-flow", PaperScale.Ci, dir, PaperCatalog.CommandLine("gradient-flow", PaperScale.Ci, dir));
            Assert.Equal(1, run.Results.ProcessorCount);
            Assert.Equal(1, run.Results.Numbers["processor-count"].Value);
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    public void ANonPositiveCountExitsWithTwo(string count)
    {
        int before = Parallelism.MaxThreads;
        var result = CliRun.Expect(2, "gradcheck", "--seq-len", "3", "--hidden", "2", "--threads", count);
        Assert.Contains($"--threads: expected an integer from 1 to 4096, got {count}", result.Err);
        Assert.Equal(before, Parallelism.MaxThreads);
    }
}
