using System.Text.Json;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary><c>adl train</c> end to end on tiny sizes: its files, --json, resuming, bad input and divergence.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly string[] Tiny = ["--cell", "lstm", "--task", "adding", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--eval-every", "3"];

    private string[] TinyRun(string outDir, params string[] more) => [.. Tiny, "--out", outDir, .. more];

    [Fact]
    public void ATinyRunWritesResultsFiguresAndACheckpoint()
    {
        string dir = temp.File("run");
        var result = CliRun.Expect(0, ["train", .. TinyRun(dir, "--steps", "7")]);

        Assert.Contains("lstm on adding, T = 8", result.Out);
        Assert.Contains("Baseline: 0.1667", result.Out);
        Assert.Contains("step 7/7", result.Out);
        Assert.Contains("Wrote: ", result.Out);
        Assert.Empty(result.Err);

        var json = CliRun.JsonFile(Path.Combine(dir, "train-result.json"));
        Assert.Equal(7, json.GetProperty("losses").GetArrayLength());
        Assert.Equal(7, json.GetProperty("grad_norms").GetArrayLength());
        Assert.Equal([3, 6, 7], json.GetProperty("evaluations").EnumerateArray().Select(e => e.GetProperty("step").GetInt32()));
        Assert.True(json.GetProperty("final_loss").GetDouble() > 0);
        Assert.Equal(1.0 / 6, json.GetProperty("baseline_loss").GetDouble(), 1e-15);
        Assert.Equal("lstm", json.GetProperty("options").GetProperty("cell").GetString());
        Assert.Equal(6, json.GetProperty("options").GetProperty("hidden").GetInt32());
        Assert.True(json.GetProperty("parameters").GetInt32() > 0);

        var (header, rows) = CliRun.Csv(Path.Combine(dir, "train-steps.csv"));
        Assert.Equal("step,loss,grad_norm,learning_rate", header);
        Assert.Equal(7, rows.Length);
        Assert.StartsWith("1,", rows[0]);
        Assert.EndsWith(",0.01", rows[0]);

        CliRun.AssertFigure(Path.Combine(dir, "train-eval-loss"));
        CliRun.AssertFigure(Path.Combine(dir, "train-grad-norm"));
        var (options, completed, dtype) = Checkpoint.ReadHeader(Path.Combine(dir, "checkpoint.safetensors"));
        Assert.Equal((7, "float", 6), (completed, dtype, options.Hidden));
        Assert.Equal(7, CliRun.JsonFile(Path.Combine(dir, "checkpoint.safetensors.json")).GetProperty("completed_steps").GetInt32());
        Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void JsonOutputParsesAndNamesTheFilesWritten()
    {
        string dir = temp.File("json");
        var json = CliRun.Json(CliRun.Expect(0, ["train", .. TinyRun(dir, "--steps", "4", "--json", "--double")]));
        var result = json.GetProperty("result");
        Assert.True(result.GetProperty("options").GetProperty("double").GetBoolean());
        Assert.Equal(4, result.GetProperty("losses").GetArrayLength());
        Assert.True(double.IsFinite(result.GetProperty("final_loss").GetDouble()));
        var files = json.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray();
        Assert.Contains(Path.Combine(dir, "checkpoint.safetensors"), files);
        Assert.Equal(8, files.Length);
        Assert.All(files, f => Assert.True(File.Exists(f), f));
        Assert.Equal("double", Checkpoint.ReadHeader(Path.Combine(dir, "checkpoint.safetensors")).ElementType);
    }

    /// <summary>train --steps 5, then train --resume --steps 9, equals train --steps 9, and its results cover all 9 steps.</summary>
    [Fact]
    public void TrainThenResumeContinuesTheRunExactly()
    {
        string straight = temp.File("straight"), split = temp.File("split");
        var all = CliRun.Json(CliRun.Expect(0, ["train", .. TinyRun(straight, "--steps", "9", "--json")]));
        CliRun.Expect(0, ["train", .. TinyRun(split, "--steps", "5")]);
        string checkpoint = Path.Combine(split, "checkpoint.safetensors");

        var resumed = CliRun.Expect(0, "train", "--resume", checkpoint, "--steps", "9", "--out", split, "--cell", "LSTM", "--hidden", "6");
        Assert.Contains("step 9/9", resumed.Out);
        Assert.DoesNotContain("step 5/9", resumed.Out);

        double[] Losses(JsonElement e) => e.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var whole = Losses(CliRun.JsonFile(Path.Combine(split, "train-result.json")));
        Assert.Equal(Losses(all.GetProperty("result")), whole);
        Assert.Equal(9, CliRun.Csv(Path.Combine(split, "train-steps.csv")).Rows.Length);
        Assert.Equal(9, Checkpoint.ReadHeader(checkpoint).CompletedSteps);
        Assert.Equal(all.GetProperty("result").GetProperty("final_loss").GetDouble(),
            CliRun.JsonFile(Path.Combine(split, "train-result.json")).GetProperty("final_loss").GetDouble());
    }

    public static TheoryData<string[], string> BadOptions() => new()
    {
        { ["--cell", "transformer"], "unknown cell 'transformer'; valid cells: rnn, rnn-relu, irnn, lstm, gru, lstm-v, lstm-nig" },
        { ["--task", "sorting"], "unknown task 'sorting'; valid tasks: adding, copy, temporal-order, char-lm" },
        { ["--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'; valid optimizers: adam, adamw" },
        { ["--hidden", "0"], "--hidden: expected an integer from 1 to 16384, got 0" },
        { ["--hidden", "-4"], "--hidden: expected an integer from 1 to 16384, got -4" },
        { ["--batch", "0"], "--batch: expected an integer from 1 to 2147483647, got 0" },
        { ["--steps", "0"], "--steps: expected an integer from 1 to 2147483647, got 0" },
        { ["--lr", "-0.1"], "--lr must be a positive finite number, got -0.1" },
        { ["--task", "temporal-order", "--seq-len", "5"], "TemporalOrder: sequence length 5 is too short; the task needs T (E, two windows for X/Y, B) >= 10" },
        { ["--task", "adding", "--seq-len", "1"], "AddingProblem: sequence length 1 is too short" },
        { ["--cell", "gru", "--forget-bias", "1"], "--forget-bias applies to LSTM cells with their own forget gate only, not 'gru'" },
        { ["--checkpoint-every", "-1"], "--checkpoint-every: expected an integer from 0 to 2147483647, got -1" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadInputExitsWithTwoAndAMessageBeforeWritingAnything(string[] options, string message)
    {
        string dir = temp.File("bad");
        // Tiny defaults for the options the case does not set (an option given twice is a parse error of its own).
        string[] defaults = ["--seq-len", "8", "--hidden", "6", "--batch", "4", "--steps", "3"];
        var kept = Enumerable.Range(0, defaults.Length / 2).Where(i => !options.Contains(defaults[2 * i])).SelectMany(i => defaults[(2 * i)..(2 * i + 2)]);
        string[] args = ["train", .. kept, "--out", dir, .. options];
        var result = CliRun.Expect(2, args);
        Assert.Contains(message, result.Err);
        Assert.StartsWith("error: ", result.Err);
        Assert.False(Directory.Exists(dir), "a refused run must not create its output directory");
    }

    [Fact]
    public void AnOutputDirectoryThatIsAFileExitsWithTwo()
    {
        string file = temp.File("occupied");
        File.WriteAllText(file, "not a directory");
        var result = CliRun.Expect(2, ["train", .. TinyRun(file, "--steps", "2")]);
        Assert.Contains(file, result.Err);
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    private string TrainedCheckpoint(string name)
    {
        string dir = temp.File(name);
        CliRun.Expect(0, ["train", .. TinyRun(dir, "--steps", "3")]);
        return Path.Combine(dir, "checkpoint.safetensors");
    }

    [Fact]
    public void ResumingAMissingCheckpointExitsWithTwo()
    {
        string missing = temp.File("nowhere/checkpoint.safetensors");
        var result = CliRun.Expect(2, "train", "--resume", missing, "--out", temp.File("out"));
        Assert.Contains($"Checkpoint '{missing}' does not exist", result.Err);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void ResumingACorruptCheckpointExitsWithTwoAndLeavesItAlone()
    {
        string checkpoint = TrainedCheckpoint("corrupt");
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 2)]);
        string dir = Path.GetDirectoryName(checkpoint)!;
        var before = CliRun.Snapshot(dir);

        var result = CliRun.Expect(2, "train", "--resume", checkpoint, "--steps", "6", "--out", dir);
        Assert.Contains(checkpoint, result.Err);
        CliRun.AssertUnchanged(before, dir);
    }

    [Fact]
    public void ResumingWithOptionsThatContradictTheCheckpointExitsWithTwoAndLeavesItAlone()
    {
        string checkpoint = TrainedCheckpoint("mismatch");
        string dir = Path.GetDirectoryName(checkpoint)!;
        var before = CliRun.Snapshot(dir);

        var size = CliRun.Expect(2, "train", "--resume", checkpoint, "--hidden", "16", "--cell", "gru", "--out", dir);
        Assert.Contains("--hidden 16 (checkpoint: 6)", size.Err);
        Assert.Contains("--cell gru (checkpoint: lstm)", size.Err);
        // An option that the checkpoint's would silently override is refused too.
        var lr = CliRun.Expect(2, "train", "--resume", checkpoint, "--lr", "0.5", "--out", dir);
        Assert.Contains("--lr 0.5 (checkpoint: 0.01)", lr.Err);
        var dtype = CliRun.Expect(2, "train", "--resume", checkpoint, "--double", "--out", dir);
        Assert.Contains("--double True (checkpoint: False)", dtype.Err);
        var fewer = CliRun.Expect(2, "train", "--resume", checkpoint, "--steps", "2", "--out", dir);
        Assert.Contains("--steps 2 is fewer than the 3 steps", fewer.Err);
        CliRun.AssertUnchanged(before, dir);
    }

    [Fact]
    public void ResumingSomethingThatIsNotACheckpointExitsWithTwo()
    {
        string path = temp.File("weights.safetensors");
        AutoDiffLstm.IO.Safetensors.Save(path, [new("w", Tensor.Zeros<float>(2, 2))]);
        var result = CliRun.Expect(2, "train", "--resume", path, "--out", temp.File("out"));
        Assert.Contains("not an AutoDiffLstm checkpoint", result.Err);
    }

    [Fact]
    public void ADivergingRunExitsWithOneNamingTheStepWithTheHint()
    {
        string dir = temp.File("diverge");
        var result = CliRun.Expect(1, "train", "--cell", "irnn", "--optimizer", "sgd", "--lr", "1e4", "--seq-len", "8", "--hidden", "6",
            "--batch", "4", "--steps", "50", "--out", dir);
        var match = System.Text.RegularExpressions.Regex.Match(result.Err, @"Training diverged at step (\d+): the loss (is (NaN|-?Infinity)|\S+ is more than 1000 times the first step's)");
        Assert.True(match.Success, result.ToString());
        int step = int.Parse(match.Groups[1].Value);
        Assert.Contains("Lower the learning rate (--lr) or clip the gradient norm (--clip", result.Err);

        // What was recorded up to the divergence is kept; there is no final evaluation and no checkpoint of a broken model.
        var json = CliRun.JsonFile(Path.Combine(dir, "train-result.json"));
        Assert.Equal(step - 1, json.GetProperty("losses").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("final_loss").ValueKind);
        Assert.False(File.Exists(Path.Combine(dir, "checkpoint.safetensors")));
    }

    [Fact]
    public void CheckpointEveryKeepsTheLastGoodStateOfARunThatDiverges()
    {
        string dir = temp.File("every");
        var result = CliRun.Expect(1, "train", "--cell", "irnn", "--optimizer", "sgd", "--lr", "1e4", "--seq-len", "8", "--hidden", "6",
            "--batch", "4", "--steps", "50", "--checkpoint-every", "1", "--out", dir);
        int step = int.Parse(System.Text.RegularExpressions.Regex.Match(result.Err, @"diverged at step (\d+)").Groups[1].Value);
        string checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        Assert.Equal(step - 1, Checkpoint.ReadHeader(checkpoint).CompletedSteps);
        var resumed = Trainer<float>.Resume(checkpoint);
        Assert.All(resumed.Model.Parameters().SelectMany(p => p.ToArray()), v => Assert.True(float.IsFinite(v)));
    }
}
