using System.Text.Json;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Cli;

/// <summary><c>adl gradflow</c>, <c>gradcheck</c>, <c>compare</c> and <c>demo</c> end to end on tiny sizes.</summary>
public sealed class StudyCommandTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void GradFlowWritesFiguresCsvAndJsonForEveryCell()
    {
        string dir = temp.File("flow");
        var result = CliRun.Expect(0, "gradflow", "--cell", "rnn,lstm", "--cell", "gru", "--seq-len", "12", "--hidden", "4", "--batch", "2",
            "--forget-bias", "2", "--jacobian", "--out", dir);
        Assert.Contains("Gradient flow over 12 steps (H = 4, B = 2)", result.Out);
        Assert.Contains("lstm, forget bias 2", result.Out);

        foreach (var figure in new[] { "gradflow", "gradflow-cell-state", "gradflow-jacobian" }) CliRun.AssertFigure(Path.Combine(dir, figure));
        var (header, rows) = CliRun.Csv(Path.Combine(dir, "gradflow.csv"));
        Assert.Equal("curve,state,steps_back,grad_norm", header);
        // rnn and gru have h, the LSTM h and c: 4 curves of 12 steps.
        Assert.Equal(4 * 12, rows.Length);
        Assert.Contains("\"lstm, forget bias 2\",c,11,", string.Join('\n', rows));

        var json = CliRun.JsonFile(Path.Combine(dir, "gradflow.json"));
        Assert.Equal(12, json.GetProperty("seq_len").GetInt32());
        var curves = json.GetProperty("curves").EnumerateArray().ToArray();
        Assert.Equal(["rnn", "lstm, forget bias 2", "gru"], curves.Select(c => c.GetProperty("curve").GetString()));
        Assert.All(curves, c => Assert.True(c.GetProperty("grad_norm_at_loss").GetDouble() > 0));
        var jacobian = json.GetProperty("jacobian_norms").EnumerateArray().ToArray();
        Assert.Equal(3, jacobian.Length);
        // dh_T/dh_T is the identity.
        Assert.All(jacobian, j => Assert.Equal(1.0, j[11].GetDouble(), 1e-9));
        Assert.All(json.GetProperty("files").EnumerateArray(), f => Assert.True(File.Exists(f.GetString()), f.GetString()));
    }

    [Fact]
    public void GradFlowRadiusSweepShowsDecayBelowOneAndGrowthAboveAsJson()
    {
        string dir = temp.File("radii");
        var json = CliRun.Json(CliRun.Expect(0, "gradflow", "--radii", "0.5,1.5", "--seq-len", "10", "--hidden", "8", "--batch", "2", "--json", "--out", dir));
        var slopes = json.GetProperty("curves").EnumerateArray().Select(c => c.GetProperty("log10_change_per_step").GetDouble()).ToArray();
        Assert.True(slopes[0] < -0.2, $"rho = 0.5: slope {slopes[0]}");
        Assert.True(slopes[1] > 0.05, $"rho = 1.5: slope {slopes[1]}");
        CliRun.AssertFigure(Path.Combine(dir, "gradflow-radius-sweep"));
        Assert.Equal("curve,state,steps_back,grad_norm", CliRun.Csv(Path.Combine(dir, "gradflow-radius-sweep.csv")).Header);
    }

    [Fact]
    public void GradFlowAppliesTheForgetBiasOnlyToCellsWithAForgetGate()
    {
        var json = CliRun.Json(CliRun.Expect(0, "gradflow", "--cell", "lstm-cifg,lstm-v,gru", "--forget-bias", "3", "--seq-len", "5", "--hidden", "3",
            "--batch", "1", "--json", "--out", temp.File("fb")));
        Assert.Equal(["lstm-cifg", "lstm-v, forget bias 3", "gru"], json.GetProperty("curves").EnumerateArray().Select(c => c.GetProperty("curve").GetString()));
    }

    [Theory]
    [InlineData("Unknown cell 'elman'. Valid cells: rnn, rnn-relu, irnn, lstm", "--cell", "rnn,elman")]
    [InlineData("--seq-len must be at least 2, got 1", "--seq-len", "1")]
    [InlineData("--hidden: expected an integer from 1 to 16384, got 0", "--hidden", "0")]
    [InlineData("--batch: expected an integer from 1 to 2147483647, got -2", "--batch", "-2")]
    [InlineData("--radii: '-1' is not a positive number", "--radii", "0.9,-1")]
    public void GradFlowBadInputExitsWithTwo(string message, params string[] args)
    {
        string dir = temp.File("bad");
        var result = CliRun.Expect(2, ["gradflow", "--out", dir, .. args]);
        Assert.Contains(message, result.Err);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void GradCheckPassesOnHealthyCells()
    {
        var text = CliRun.Expect(0, "gradcheck", "--cell", "rnn,lstm,gru,lstm-v", "--seq-len", "6", "--hidden", "3", "--batch", "2", "--directions", "3");
        foreach (var cell in new[] { "rnn", "lstm", "gru", "lstm-v" }) Assert.Contains($"{cell} (T = 6, H = 3, B = 2, layers = 1)", text.Out);

        var json = CliRun.Json(CliRun.Expect(0, "gradcheck", "--cell", "lstm", "--seq-len", "5", "--hidden", "3", "--layers", "2", "--json"));
        var report = Assert.Single(json.EnumerateArray());
        Assert.Equal("lstm", report.GetProperty("cell").GetString());
        Assert.True(report.GetProperty("passed").GetBoolean());
        Assert.True(report.GetProperty("compared").GetInt32() > 0);
        Assert.InRange(report.GetProperty("max_relative_error").GetDouble(), 0, 1e-5);
    }

    [Theory]
    [InlineData("Unknown cell 'lstmm'. Valid cells:", "--cell", "lstmm")]
    [InlineData("--seq-len: expected an integer from 1 to 2147483647, got 0", "--seq-len", "0")]
    [InlineData("--directions: expected an integer from 1 to 2147483647, got 0", "--directions", "0")]
    public void GradCheckBadInputExitsWithTwo(string message, params string[] args) =>
        Assert.Contains(message, CliRun.Expect(2, ["gradcheck", .. args]).Err);

    [Fact]
    public void CompareClippingTrainsBothRunsAndWritesFigures()
    {
        string dir = temp.File("clip");
        var result = CliRun.Expect(0, "compare", "--study", "clipping", "--cell", "rnn", "--seq-len", "8", "--hidden", "4", "--batch", "4",
            "--steps", "4", "--clip", "0.5", "--out", dir);
        Assert.Contains("no clipping", result.Out);
        Assert.Contains("clip norm 0.5", result.Out);
        foreach (var figure in new[] { "eval-loss", "grad-norm", "train-loss" }) CliRun.AssertFigure(Path.Combine(dir, "compare-clipping-" + figure));
        var json = CliRun.JsonFile(Path.Combine(dir, "compare-clipping.json"));
        var rows = json.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["no clipping", "clip norm 0.5"], rows.Select(r => r.GetProperty("model").GetString()));
        Assert.All(rows, r => Assert.Equal(4, r.GetProperty("steps_completed").GetInt32()));
        // Both runs start from the same weights and batch: the same first loss and gradient norm.
        var curves = json.GetProperty("curves").EnumerateArray().Select(c => c.GetProperty("losses")[0].GetDouble()).ToArray();
        Assert.Equal(curves[0], curves[1]);
    }

    [Fact]
    public void CompareRemediesAsJson()
    {
        string dir = temp.File("remedies");
        var json = CliRun.Json(CliRun.Expect(0, "compare", "--seq-len", "6", "--hidden", "3", "--batch", "2", "--steps", "2", "--json", "--out", dir));
        Assert.Equal("remedies", json.GetProperty("study").GetString());
        Assert.Equal(["rnn (tanh)", "irnn", "rnn, 2 layers residual", "lstm, forget bias ~0 (default)", "lstm, forget bias 1", "gru"],
            json.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("model").GetString()));
        Assert.All(json.GetProperty("files").EnumerateArray(), f => Assert.True(File.Exists(f.GetString())));
    }

    [Theory]
    [InlineData("Unknown study 'ablation'. Valid studies: remedies, clipping.", "--study", "ablation")]
    [InlineData("unknown task 'parity'", "--task", "parity")]
    [InlineData("--steps: expected an integer from 1 to 2147483647, got 0", "--steps", "0")]
    public void CompareBadInputExitsWithTwo(string message, params string[] args)
    {
        string dir = temp.File("bad");
        Assert.Contains(message, CliRun.Expect(2, ["compare", "--out", dir, .. args]).Err);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void TheDemoAtTinySizesWritesAllItsFiles()
    {
        string dir = temp.File("demo");
        var result = CliRun.Expect(0, "demo", "--seq-len", "20", "--steps", "5", "--hidden", "8", "--out", dir);
        Assert.Contains("Gradient flow: loss at step 20", result.Out);
        Assert.Contains("Adding problem, T = 100, 5 steps", result.Out);

        foreach (var figure in new[] { "gradient-flow", "gradient-flow-cell-state", "adding-training" }) CliRun.AssertFigure(Path.Combine(dir, figure));
        var (header, rows) = CliRun.Csv(Path.Combine(dir, "gradient-flow.csv"));
        Assert.Equal("cell,steps_back,grad_norm_h", header);
        Assert.Equal(5 * 20, rows.Length);

        var summary = CliRun.JsonFile(Path.Combine(dir, "demo-summary.json"));
        Assert.Equal(20, summary.GetProperty("options").GetProperty("flow_steps").GetInt32());
        Assert.Equal(["rnn (tanh)", "lstm, forget bias ~0 (default)", "lstm, forget bias 1", "lstm, forget bias 3", "gru"],
            summary.GetProperty("gradient_flow").EnumerateArray().Select(r => r.GetProperty("cell").GetString()));
        var training = summary.GetProperty("training").EnumerateArray().ToArray();
        Assert.Equal(2, training.Length);
        Assert.All(training, t => Assert.True(t.GetProperty("final_eval_loss").GetDouble() > 0));
        var files = summary.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray();
        Assert.Contains(Path.Combine(dir, "demo-summary.json"), files);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length > 0, f));
        Assert.Equal(files.Order(), Directory.GetFiles(dir).Order());
    }

    [Fact]
    public void TheDemoPrintsItsSummaryAsJson()
    {
        var json = CliRun.Json(CliRun.Expect(0, "demo", "--seq-len", "10", "--steps", "2", "--hidden", "4", "--json", "--out", temp.File("demo-json")));
        Assert.Equal(5, json.GetProperty("gradient_flow").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, json.GetProperty("files").ValueKind);
    }

    [Theory]
    [InlineData("--seq-len must be at least 2, got 1", "--seq-len", "1")]
    [InlineData("--steps: expected an integer from 1 to 2147483647, got 0", "--steps", "0")]
    [InlineData("--hidden: expected an integer from 1 to 16384, got -1", "--hidden", "-1")]
    public void DemoBadInputExitsWithTwo(string message, params string[] args)
    {
        string dir = temp.File("bad");
        Assert.Contains(message, CliRun.Expect(2, ["demo", "--out", dir, .. args]).Err);
        Assert.False(Directory.Exists(dir));
    }
}
