using AutoDiffLstm.Notebooks.Cells;

namespace AutoDiffLstm.Tests.Notebooks;

public class CellCodeTests
{
    [Fact]
    public void KernelSelectionTimeAndLocalReferencesAreBlankedKeepingLineNumbers()
    {
        const string source = "#!csharp\n#r \"../src/AutoDiffLstm.Experiments/bin/Debug/net10.0/AutoDiffLstm.dll\"\n" +
                              "#r \"..\\\\bin\\\\AutoDiffLstm.Experiments.dll\"\n#!time\nvar x = 1;";
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
    [InlineData("#r \"nuget: Newtonsoft.Json, 13.0.3\"", "NuGet references are not supported")]
    [InlineData("#r \"/opt/other/Other.dll\"", "only references to the local AutoDiffLstm build")]
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
