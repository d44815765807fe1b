using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>
/// The study-level importance: a study's grid and random-search options become forest features over their search
/// space, and the table, Markdown and bar figure are written. Outcomes are made up here (no training) so the true
/// shares are known.
/// </summary>
public sealed class StudyImportanceTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TheCellThatDecidesTheOutcomeGetsTheVarianceAndTheFilesAreWritten()
    {
        string spec = StudyFiles.Write(temp.File("s.json"), """
            {
              "name": "made-up",
              "options": { "task": "adding", "seq-len": 6, "batch": 4, "steps": 12 },
              "grid": { "cell": ["lstm", "gru"] },
              "random": { "samples": 8, "space": { "lr": { "log-uniform": [1e-3, 1e-1] }, "hidden": { "int-range": [4, 8] } } },
              "seeds": [1, 2]
            }
            """);
        var plan = StudyFiles.Plan(spec);
        var features = StudyImportance.Features(plan);
        Assert.Equal(["cell", "log10 lr", "hidden"], features.Select(f => f.Feature.Name));
        Assert.Equal(-3.0, features[1].Feature.Low, 12);
        Assert.Equal(-1.0, features[1].Feature.High, 12);
        Assert.Equal((3.5, 8.5), (features[2].Feature.Low, features[2].Feature.High));

        // loss / chance = 0.2 for gru, 0.8 for lstm, whatever the learning rate, hidden size or seed: the cell explains all.
        var rows = plan.Runs.Select(r => new StudyRow(r, new RunOutcome(RunStatus.Done, 0,
            new TrainRunSummary { Options = r.Train, FinalLoss = (string)r.Value("cell")! == "gru" ? 0.2 : 0.8, BaselineLoss = 1 }, null))).ToArray();
        var files = new List<string>();
        string dir = temp.File("study");
        Directory.CreateDirectory(dir);
        var result = Assert.Single(StudyImportance.Write(plan, rows, dir, files));
        Assert.Null(result.Problem);
        Assert.Equal("cell", result.Result!.Main[0].Name);
        Assert.InRange(result.Result.Main[0].Fraction, 0.999, 1.0 + 1e-12);
        CliRun.AssertFigure(Path.Combine(dir, "figures", "importance"));
        var (header, lines) = CliRun.Csv(Path.Combine(dir, StudyImportance.CsvFile));
        Assert.Equal("case,effect,kind,fraction,spread,trees,runs", header);
        Assert.Equal(3 + 3, lines.Length);
        Assert.StartsWith("all,cell,main,", lines[0]);
        Assert.Contains("| cell | main | 100.0 % |", File.ReadAllText(Path.Combine(dir, StudyImportance.MarkdownFile)));
    }
}
