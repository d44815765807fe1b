using AutoDiffLstm.Notebooks.Cells;

namespace AutoDiffLstm.Tests.Notebooks;

public class CellCodeTests
{
    [Fact]
    public void KernelSelectionTimeAndOurPackagesAreBlankedKeepingLineNumbers()
    {
        const string source = "#!csharp\n#r \"nuget: AutoDiffLstm.Experiments, 0.1.0\"\n" +
                              "#r \"nuget:AutoDiffLstm\"\n#!time\nvar x = 1;";
        var code = CellCode.Prepare(source, 2);
        Assert.Equal(CellCodeKind.CSharp, code.Kind);
        Assert.Equal("\n\n\n\nvar x = 1;", code.Code);
        Assert.Equal(4, code.RemovedLines.Count);
    }

    [Fact]
    public void AMarkdownMagicCellIsProseNotCode()
    {
        var code = CellCode.Prepare("\n#!markdown\n# Heading\ntext\n", 4);
        Assert.Equal(CellCodeKind.Markdown, code.Kind);
        Assert.Equal("# Heading\ntext", code.MarkdownText);
    }

    [Theory]
    [InlineData("#r \"nuget: Newtonsoft.Json, 13.0.3\"", "the NuGet package 'Newtonsoft.Json' is not supported")]
    [InlineData("#r \"nuget: AutoDiffLstm.Cli\"", "the NuGet package 'AutoDiffLstm.Cli' is not supported")]
    [InlineData("#r \"../src/AutoDiffLstm.Experiments/bin/Debug/net10.0/AutoDiffLstm.dll\"", "DLL references are not supported")]
    [InlineData("#!fsharp", "magic command is not supported")]
    [InlineData("#!set --name x --value 1", "magic command is not supported")]
    [InlineData("#load \"helpers.csx\"", "#r, #i and #load")]
    [InlineData("#i \"nuget: https://example.invalid/feed\"", "#r, #i and #load")]
    public void MagicsTheTwinCannotFollowAreRejectedNamingCellAndLine(string magic, string reason)
    {
        var e = Assert.Throws<NotebookMagicException>(() => CellCode.Prepare("var a = 1;\n" + magic, 7));
        Assert.Equal(7, e.CellIndex);
        Assert.StartsWith("cell 7, line 2: `" + magic + "`", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ThePackageLoaderCellIsRecognisedByItsFirstLine()
    {
        var code = CellCode.Prepare("\n" + CellCode.PackageLoaderMarker + " out/feed.\nawait Kernel.Root.SendAsync(x);", 1);
        Assert.Equal(CellCodeKind.PackageLoader, code.Kind);
        Assert.Equal(CellCodeKind.CSharp, CellCode.Prepare("var a = 1;\n" + CellCode.PackageLoaderMarker, 1).Kind);
    }

    [Fact]
    public void PreprocessorDirectivesAreLeftAlone()
    {
        const string source = "#region setup\n#if DEBUG\nvar a = 1;\n#endif\n#endregion\n#nullable enable";
        var code = CellCode.Prepare(source, 0);
        Assert.Equal(source, code.Code);
        Assert.Empty(code.RemovedLines);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("#!csharp\n  \n", true)]
    [InlineData("// a comment", false)]
    public void BlankCellsAreRecognised(string source, bool blank) =>
        Assert.Equal(blank, CellCode.Prepare(source, 0).IsBlank);
}
