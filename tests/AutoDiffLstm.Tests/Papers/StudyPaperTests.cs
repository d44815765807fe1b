using System.Globalization;
using AutoDiffLstm.Experiments.Papers;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Papers;

/// <summary>
/// The lstm-variants paper quotes the committed study studies/lstm-variants (written by <c>adl sweep</c>): a missing
/// study is an error naming the file and the command that writes it, before anything trains, and the committed paper's
/// numbers are the study's.
/// </summary>
public sealed class StudyPaperTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void AMissingStudyIsAnErrorNamingTheFileAndTheSweepThatWritesIt()
    {
        string studies = temp.File("no-studies");
        Directory.CreateDirectory(studies);
        string outDir = temp.File("paper");
        var e = Assert.Throws<FileNotFoundException>(() => PaperGenerator.Generate("lstm-variants", PaperScale.Ci, outDir, "test", studiesFolder: studies));
        Assert.Contains(Path.Combine(studies, "lstm-variants", "results.csv"), e.Message);
        Assert.Contains($"adl sweep {studies}/lstm-variants.json --out {studies}/lstm-variants", e.Message);
        // Refused before any run: nothing was written.
        Assert.False(File.Exists(Path.Combine(outDir, PaperGenerator.ResultsFile)));

        var cli = CliRun.Expect(2, "paper", "lstm-variants", "--scale", "ci", "--out", outDir, "--studies", studies);
        Assert.Contains("lstm-variants.json --out", cli.Err);
    }

    [Fact]
    public void TheCommittedPaperQuotesTheCommittedStudy()
    {
        var results = PaperResults.Load(Path.Combine(PaperTestFiles.Folder("lstm-variants"), PaperGenerator.ResultsFile));
        var summary = CsvTable.Read(Path.Combine(PaperTestFiles.StudiesFolder, "lstm-variants", "summary.csv"));
        foreach (var row in summary.Rows)
        {
            string task = summary.Cell(row, "case").Split(' ')[0]["task=".Length..], cell = summary.Cell(row, "grid point")["cell=".Length..];
            string key = $"study-{task}-{cell}";
            Assert.Equal(summary.Number(row, "solved"), results.Numbers[key + "-solved"].Value);
            Assert.Equal(summary.Number(row, "best mean loss/chance"), results.Numbers[key + "-best-mean"].Value);
            Assert.Equal(summary.Number(row, "best sd over seeds"), results.Numbers[key + "-best-sd"].Value);
        }
        var importance = CsvTable.Read(Path.Combine(PaperTestFiles.StudiesFolder, "lstm-variants", "importance.csv"));
        var cellShare = importance.Rows.First(r => importance.Cell(r, "effect") == "cell");
        Assert.Equal(100 * importance.Number(cellShare, "fraction"), results.Numbers["study-adding-share-cell"].Value!.Value, 12);
        var (_, table) = CliRun.Csv(Path.Combine(PaperTestFiles.Folder("lstm-variants"), "tables", "study-summary.csv"));
        Assert.Equal(summary.Rows.Count, table.Length);
        Assert.Equal(CsvTable.Read(Path.Combine(PaperTestFiles.StudiesFolder, "lstm-variants", "results.csv")).Rows.Count.ToString(CultureInfo.InvariantCulture),
            results.Numbers["study-runs"].Text);
        // The study's figures are copied as they are.
        Assert.Equal(File.ReadAllBytes(Path.Combine(PaperTestFiles.StudiesFolder, "lstm-variants", "figures", "quality-case0.png")),
            File.ReadAllBytes(Path.Combine(PaperTestFiles.Folder("lstm-variants"), "figures", "study-adding.png")));
    }

    [Fact]
    public void CsvTablesReadQuotedFieldsAndRefuseRaggedRows()
    {
        string path = temp.File("t.csv");
        File.WriteAllText(path, "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n1,\n");
        var t = CsvTable.Read(path);
        Assert.Equal(["a", "b"], t.Header);
        Assert.Equal(["x, y", "say \"hi\""], t.Rows[0]);
        Assert.Equal(["1", ""], t.Rows[1]);
        Assert.Contains("no column 'c'", Assert.Throws<InvalidDataException>(() => t.Cell(t.Rows[0], "c")).Message);
        File.WriteAllText(path, "a,b\n1,2,3\n");
        Assert.Contains("line 2 has 3 fields; the header has 2", Assert.Throws<InvalidDataException>(() => CsvTable.Read(path)).Message);
    }
}
