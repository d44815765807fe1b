using AutoDiffLstm.Experiments.Papers;

namespace AutoDiffLstm.Tests.Papers;

public class PaperCatalogTests
{
    [Fact]
    public void TheCommandLineNamesTheScaleAndANonDefaultFolderOnly()
    {
        const string prefix = "dotnet run -c Release --project src/AutoDiffLstm.Cli -- paper";
        Assert.Equal(prefix + " gradient-flow", PaperCatalog.CommandLine("gradient-flow", PaperScale.Full));
        Assert.Equal(prefix + " gradient-flow", PaperCatalog.CommandLine("Gradient-Flow", PaperScale.Full, "./papers/gradient-flow/"));
        Assert.Equal(prefix + " lstm-variants --scale ci", PaperCatalog.CommandLine("lstm-variants", PaperScale.Ci, "papers/lstm-variants"));
        Assert.Equal(prefix + " lstm-variants --out /tmp/x", PaperCatalog.CommandLine("lstm-variants", PaperScale.Full, "/tmp/x"));
        Assert.Equal(prefix + " lstm-variants --scale ci --out '/tmp/my papers'", PaperCatalog.CommandLine("lstm-variants", PaperScale.Ci, "/tmp/my papers"));
        Assert.Equal(prefix + " lstm-variants", PaperCatalog.CommandLine("lstm-variants", PaperScale.Full, null, "./studies/"));
        Assert.Equal(prefix + " lstm-variants --studies /data/studies", PaperCatalog.CommandLine("lstm-variants", PaperScale.Full, null, "/data/studies"));
    }

    [Fact]
    public void AnUnknownPaperListsTheValidIds()
    {
        var e = Assert.Throws<ArgumentException>(() => PaperCatalog.Find("gradient"));
        Assert.Contains("gradient-flow, lstm-variants", e.Message);
    }

    [Theory]
    [InlineData("full", PaperScale.Full)]
    [InlineData(" CI ", PaperScale.Ci)]
    public void ScalesParse(string text, PaperScale expected) => Assert.Equal(expected, PaperScales.Parse(text));

    [Fact]
    public void AnUnknownScaleIsRejected() => Assert.Contains("'huge'", Assert.Throws<ArgumentException>(() => PaperScales.Parse("huge")).Message);

    [Fact]
    public void AMalformedPaperIsRejectedBeforeAnyExperimentRuns()
    {
        string dir = Path.Combine(Path.GetTempPath(), "adl-paper-malformed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, PaperGenerator.PaperFile), "# x\n<!-- generated:number:lstm-slope -->\n");
            var e = Assert.Throws<InvalidDataException>(() => PaperGenerator.Generate("gradient-flow", PaperScale.Ci, dir, "cmd"));
            Assert.Contains("never closed", e.Message);
            Assert.Equal([PaperGenerator.PaperFile], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
