using System.Text.Json;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary>
/// <c>adl train</c> as a user meets it on a bad day (issue 20): runs too big for memory, unusable output and resume
/// paths, damaged checkpoints, divergence with any optimizer, runs that learn nothing, and the one rule for 0 intervals.
/// </summary>
public sealed class TrainSafetyTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly string[] Tiny = ["--cell", "lstm", "--task", "adding", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--eval-every", "3"];

    [Fact]
    public void ARunTooBigForMemoryIsRefusedBeforeItStartsWithWhatWouldFit()
    {
        string dir = temp.File("huge");
        // T = 100 million: the tape of one step alone would be hundreds of gigabytes.
        var result = CliRun.Expect(2, "train", "--seq-len", "100000000", "--steps", "1", "--out", dir);
        Assert.Matches(@"error: train: this run needs about [\d.]+ [GT]iB \(activations the tape keeps: [\d.]+ [GT]iB for T = 100000000, B = 32, H = 64, lstm, 1 layer\(s\);", result.Err);
        Assert.Contains("available", result.Err);
        Assert.Matches("What would fit: |Nothing close fits: shorten --seq-len or lower --hidden", result.Err);
        Assert.False(Directory.Exists(dir), "a refused run writes nothing");
    }

    [Fact]
    public void TheSuggestionsOfARefusalAreThemselvesWithinMemory()
    {
        // Whatever this machine has: a run estimated at 8x its memory is refused, and a suggested batch fits.
        long available = MemoryEstimate.AvailableBytes();
        var options = new TrainingOptions { SequenceLength = 1000, Hidden = 64, Batch = 32 };
        long perStep = MemoryEstimate.Of(options).TotalBytes;
        int length = (int)Math.Min(int.MaxValue / 2, 1000L * 8 * available / perStep);
        var e = Assert.Throws<ArgumentException>(() => AutoDiffLstm.Cli.Commands.TrainRun.CheckMemory(options with { SequenceLength = length }));
        var batch = System.Text.RegularExpressions.Regex.Match(e.Message, @"--batch (\d+)");
        if (batch.Success)
            Assert.True(MemoryEstimate.Of(options with { SequenceLength = length, Batch = int.Parse(batch.Groups[1].Value) }).TotalBytes <= available, e.Message);
        Assert.Contains("--grad-checkpoint -1", e.Message);
    }

    [Fact]
    public void AnOutputPathThatIsAFileIsNotADirectory()
    {
        string file = temp.File("passwd");
        File.WriteAllText(file, "root:x:0:0");
        var result = CliRun.Expect(2, ["train", .. Tiny, "--steps", "2", "--out", file]);
        Assert.Contains($"--out '{file}' is a file, not a directory", result.Err);
        Assert.Equal("root:x:0:0", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("train", "--steps")]
    [InlineData("gradflow", "--seq-len")]
    [InlineData("compare", "--steps")]
    [InlineData("demo", "--steps")]
    public void AnUnwritableOutputIsRefusedBeforeAnyWork(string command, string sizeOption)
    {
        // /proc refuses new entries even to root, so this holds on CI (as root) as well as for a user.
        var result = CliRun.Expect(2, command, "--out", "/proc/adl-cannot-write-here", sizeOption, "2");
        Assert.Contains("--out '/proc/adl-cannot-write-here' cannot be created", result.Err);
        Assert.DoesNotContain("Wrote", result.Out);
    }

    private string Trained(string name, params string[] more)
    {
        string dir = temp.File(name);
        CliRun.Expect(0, ["train", .. Tiny, "--steps", "3", "--out", dir, .. more]);
        return dir;
    }

    [Fact]
    public void ResumeAcceptsTheDirectoryOfARunAndWritesNextToItsCheckpoint()
    {
        string dir = Trained("run");
        string elsewhere = temp.File("cwd-out");
        // No --out: the results and the new checkpoint go to the checkpoint's directory, not ./out.
        var result = CliRun.Expect(0, "train", "--resume", dir, "--steps", "5");
        Assert.Contains($"Wrote: {Path.Combine(dir, "train-result.json")}", result.Out);
        Assert.Equal(5, Checkpoint.ReadHeader(Path.Combine(dir, "checkpoint.safetensors")).CompletedSteps);
        // An explicit --out still wins.
        CliRun.Expect(0, "train", "--resume", Path.Combine(dir, "checkpoint.safetensors"), "--steps", "6", "--out", elsewhere);
        Assert.Equal(6, Checkpoint.ReadHeader(Path.Combine(elsewhere, "checkpoint.safetensors")).CompletedSteps);
        Assert.Equal(5, Checkpoint.ReadHeader(Path.Combine(dir, "checkpoint.safetensors")).CompletedSteps);
    }

    [Fact]
    public void ResumeOfADirectoryWithoutACheckpointSaysSo()
    {
        string empty = temp.File("empty");
        Directory.CreateDirectory(empty);
        var result = CliRun.Expect(2, "train", "--resume", empty);
        Assert.Contains($"--resume '{empty}' is a directory without a checkpoint (checkpoint.safetensors)", result.Err);
    }

    [Fact]
    public void ResumeWithAnotherGradientCheckpointIsRefusedLikeAnyMismatch()
    {
        string dir = Trained("ckpt", "--grad-checkpoint", "2");
        var before = CliRun.Snapshot(dir);
        var result = CliRun.Expect(2, "train", "--resume", dir, "--grad-checkpoint", "-1");
        Assert.Contains("--grad-checkpoint -1 (checkpoint: 2)", result.Err);
        CliRun.AssertUnchanged(before, dir);
        CliRun.Expect(0, "train", "--resume", dir, "--grad-checkpoint", "2", "--steps", "4");
    }

    [Fact]
    public void RandomBytesInACheckpointsTensorDataAreRefusedNamingTheTensor()
    {
        string dir = Trained("damaged");
        string checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        var bytes = File.ReadAllBytes(checkpoint);
        int headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        int begin = 8 + headerLength + header.RootElement.GetProperty("weight_ih_l0").GetProperty("data_offsets")[0].GetInt32();
        bytes[begin + 5] ^= 0x5A;
        File.WriteAllBytes(checkpoint, bytes);

        var result = CliRun.Expect(2, "train", "--resume", checkpoint, "--steps", "6");
        Assert.Contains("the data of tensor 'weight_ih_l0' does not match its stored SHA-256", result.Err);
    }

    /// <summary>Adam with a huge learning rate climbs to 1e9 and beyond without overflowing: the exploding-loss rule stops it.</summary>
    [Theory]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    [InlineData("sgd")]
    public void ADivergingRunOfAnyOptimizerExitsWithOneAndItsJsonSaysWhy(string optimizer)
    {
        string dir = temp.File("diverge-" + optimizer);
        var result = CliRun.Expect(1, ["train", .. Tiny, "--optimizer", optimizer, "--lr", "1e6", "--steps", "40", "--out", dir, "--json"]);
        Assert.Contains("error: Training diverged at step", result.Err);
        Assert.Contains("Lower the learning rate (--lr) or clip the gradient norm (--clip", result.Err);
        var report = CliRun.Json(result).GetProperty("result");
        Assert.Equal("diverged", report.GetProperty("status").GetString());
        Assert.Contains("Training diverged at step", report.GetProperty("failure").GetString());
        Assert.True(report.GetProperty("completed_steps").GetInt32() < 40);
        Assert.Equal("diverged", CliRun.JsonFile(Path.Combine(dir, "train-result.json")).GetProperty("status").GetString());
    }

    [Fact]
    public void ARunThatDoesNotBeatChanceSaysSoPlainly()
    {
        // Two steps of an LSTM on the adding problem: the held-out MSE is still at chance (1/6).
        string dir = temp.File("chance");
        var text = CliRun.Expect(0, ["train", .. Tiny, "--steps", "2", "--out", dir]);
        Assert.Contains("Did NOT beat chance: held-out loss", text.Out);
        var json = CliRun.Json(CliRun.Expect(0, ["train", .. Tiny, "--steps", "2", "--out", dir, "--json"])).GetProperty("result");
        Assert.False(json.GetProperty("beat_chance").GetBoolean());
        Assert.Equal("completed", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("failure").ValueKind);
    }

    [Fact]
    public void ARunThatLearnsSaysItBeatChance()
    {
        string dir = temp.File("learns");
        var json = CliRun.Json(CliRun.Expect(0, "train", "--task", "adding", "--seq-len", "10", "--hidden", "16", "--batch", "32", "--steps", "300",
            "--eval-every", "0", "--out", dir, "--json")).GetProperty("result");
        Assert.True(json.GetProperty("beat_chance").GetBoolean(), json.ToString());
        Assert.True(json.GetProperty("final_loss").GetDouble() < 0.9 * json.GetProperty("baseline_loss").GetDouble());
    }

    /// <summary>One rule for both intervals: N &gt; 0 every N steps, 0 only at the end.</summary>
    [Fact]
    public void ZeroIntervalsMeanOnlyAtTheEnd()
    {
        string dir = temp.File("zero");
        var json = CliRun.Json(CliRun.Expect(0, ["train", "--cell", "lstm", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--steps", "7",
            "--eval-every", "0", "--checkpoint-every", "0", "--out", dir, "--json"])).GetProperty("result");
        Assert.Equal([7], json.GetProperty("evaluations").EnumerateArray().Select(e => e.GetProperty("step").GetInt32()));
        Assert.Equal(7, Checkpoint.ReadHeader(Path.Combine(dir, "checkpoint.safetensors")).CompletedSteps);
    }
}
