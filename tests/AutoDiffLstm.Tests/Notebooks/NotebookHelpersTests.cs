using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Notebooks;

namespace AutoDiffLstm.Tests.Notebooks;

public class NotebookHelpersTests
{
    [Theory]
    [InlineData(null, NotebookScale.Full)]
    [InlineData("", NotebookScale.Full)]
    [InlineData("full", NotebookScale.Full)]
    [InlineData(" CI ", NotebookScale.Ci)]
    public void ScaleNamesAreParsed(string? text, NotebookScale expected) => Assert.Equal(expected, Notebook.ParseScale(text));

    [Fact]
    public void AnUnknownScaleNameIsAnErrorNamingTheVariable()
    {
        var e = Assert.Throws<ArgumentException>(() => Notebook.ParseScale("tiny"));
        Assert.Contains("'tiny'", e.Message);
        Assert.Contains(Notebook.ScaleVariable, e.Message);
    }

    [Fact]
    public void ARepositoryFileIsFoundAboveTheStartFolderAndAMissingOneIsNamed()
    {
        string notebooks = NotebookTestFiles.NotebooksFolder;
        Assert.Equal(Path.Combine(NotebookTestFiles.RepositoryRoot, "notebooks", "README.md"), Notebook.RepositoryFile("notebooks/README.md", notebooks));
        var missing = Assert.Throws<FileNotFoundException>(() => Notebook.RepositoryFile("notebooks/no-such-file.csv", notebooks));
        Assert.Contains("no-such-file.csv", missing.Message);
        using var outside = new TempFolder();
        var noClone = Assert.Throws<DirectoryNotFoundException>(() => Notebook.RepositoryFile("README.md", outside.Path));
        Assert.Contains("AutoDiffLstm.sln", noClone.Message);
    }

    [Fact]
    public async Task AnOverrideAppliesToItsOwnFlowOnlyAndIsUndone()
    {
        NotebookScale before = Notebook.CurrentScale;
        using (Notebook.OverrideScale(NotebookScale.Ci))
        {
            Assert.Equal(50, Notebook.Scale(full: 1000, ci: 50));
            // A flow that started without the override does not see it.
            Task<NotebookScale> other;
            using (ExecutionContext.SuppressFlow()) other = Task.Run(() => Notebook.CurrentScale);
            Assert.Equal(before, await other);
            using (Notebook.OverrideScale(NotebookScale.Full)) Assert.Equal(1000, Notebook.Scale(full: 1000, ci: 50));
            Assert.Equal(50, Notebook.Scale(full: 1000, ci: 50));
        }
        Assert.Equal(before, Notebook.CurrentScale);
    }

    [Fact]
    public void PngBytesAndFiguresDisplayAsImages()
    {
        var figure = new LineFigure("t", "x", "y", false, [new Series("s", [0.0, 1.0], [1.0, 2.0])]) { Size = (120, 80) };
        var bundle = DisplayFormatter.Format(figure);
        var png = Convert.FromBase64String(Assert.Single(bundle, kv => kv.Key == DisplayFormatter.Png).Value);
        Assert.True(DisplayFormatter.IsPng(png));
        Assert.Equal((120, 80), DisplayFormatter.PngSize(png));

        var again = DisplayFormatter.Format(png);
        Assert.Equal([DisplayFormatter.Png], again.Keys);
        Assert.Equal(Convert.ToBase64String(png), again[DisplayFormatter.Png]);
    }

    [Fact]
    public void ValuesDisplayAsPlainText()
    {
        Assert.Equal("<null>", DisplayFormatter.Format(null)[DisplayFormatter.PlainText]);
        Assert.Equal("2.5", DisplayFormatter.Format(2.5)[DisplayFormatter.PlainText]);
        Assert.Equal("[1, [2, 3], x]", DisplayFormatter.Format(new object[] { 1, new[] { 2, 3 }, "x" })[DisplayFormatter.PlainText]);
        var tensor = Tensor.FromArray([1.0, 2.0]);
        Assert.Equal(tensor.ToString(), DisplayFormatter.Format(tensor)[DisplayFormatter.PlainText]);
        var bytes = new byte[] { 1, 2, 3 };
        Assert.Equal("[1, 2, 3]", DisplayFormatter.Format(bytes)[DisplayFormatter.PlainText]); // not a PNG: just bytes
        var many = DisplayFormatter.Format(Enumerable.Range(0, 500))[DisplayFormatter.PlainText];
        Assert.EndsWith("98, 99, ...]", many);
    }

    private sealed class Table
    {
        public string ToHtml() => "<table><tr><td>1</td></tr></table>";
        public override string ToString() => "table";
    }

    [Fact]
    public void ObjectsWithToHtmlDisplayAsHtmlWithATextFallback()
    {
        var bundle = DisplayFormatter.Format(new Table());
        Assert.Equal("<table><tr><td>1</td></tr></table>", bundle[DisplayFormatter.Html]);
        Assert.Equal("table", bundle[DisplayFormatter.PlainText]);
    }

    [Fact]
    public void RequestedMimeTypesSelectAndAStringCanBeDeclaredHtml()
    {
        Assert.Equal(["text/html"], DisplayFormatter.Format("<b>bold</b>", "text/html").Keys);
        Assert.Equal("<b>bold</b>", DisplayFormatter.Format("<b>bold</b>", "text/html")["text/html"]);
        var e = Assert.Throws<ArgumentException>(() => DisplayFormatter.Format(42, "image/png"));
        Assert.Contains("Int32 cannot be shown as 'image/png'", e.Message);
    }
}
