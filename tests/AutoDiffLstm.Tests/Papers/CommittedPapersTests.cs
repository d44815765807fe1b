using AutoDiffLstm.Experiments.Papers;

namespace AutoDiffLstm.Tests.Papers;

/// <summary>
/// The committed papers under papers/: their links resolve, their generated blocks are exactly what the committed
/// results.json renders to, and they state the command that produced them.
/// </summary>
public class CommittedPapersTests
{
    private static string Markdown(string id) => File.ReadAllText(Path.Combine(PaperTestFiles.Folder(id), PaperGenerator.PaperFile));

    private static PaperResults Results(string id) => PaperResults.Load(Path.Combine(PaperTestFiles.Folder(id), PaperGenerator.ResultsFile));

    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void EveryLinkedFileExists(string id)
    {
        var links = PaperMarkdown.LinkedFiles(Markdown(id));
        Assert.Contains(links, l => l.EndsWith(".png", StringComparison.Ordinal));
        Assert.Contains(links, l => l.EndsWith(".csv", StringComparison.Ordinal));
        var missing = links.Where(l => !File.Exists(Path.GetFullPath(Path.Combine(PaperTestFiles.Folder(id), l)))).ToArray();
        Assert.True(missing.Length == 0, $"papers/{id}/paper.md links to missing files: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void EveryGeneratedBlockIsWhatResultsJsonRenders(string id)
    {
        var results = Results(id);
        var edited = PaperMarkdown.Blocks(Markdown(id))
            .Where(b => b.Body != PaperMarkdown.RenderBody(b.Kind, b.Name, results))
            .Select(b => $"{b.Key}: paper has '{b.Body.Trim()}', results.json renders '{PaperMarkdown.RenderBody(b.Kind, b.Name, results).Trim()}'")
            .ToArray();
        Assert.True(edited.Length == 0, $"papers/{id}/paper.md has generated blocks that differ from results.json (regenerate with `adl paper {id} --render-only`):\n" + string.Join("\n", edited));
    }

    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void EveryFigureAndTableIsShown(string id)
    {
        var results = Results(id);
        var shown = PaperMarkdown.Blocks(Markdown(id)).Select(b => b.Key).ToHashSet();
        var hidden = results.Figures.Keys.Select(k => "figure:" + k).Concat(results.Tables.Keys.Select(k => "table:" + k)).Where(k => !shown.Contains(k)).ToArray();
        Assert.True(hidden.Length == 0, $"papers/{id}: results.json has items the paper does not show: {string.Join(", ", hidden)}");
    }

    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void NoResultIsTypedIntoTheProse(string id)
    {
        var typed = PaperTestFiles.TypedInNumbers(Markdown(id));
        Assert.True(typed.Count == 0, $"papers/{id}/paper.md has numbers typed into the prose (register them in the paper definition and quote them with <!-- generated:number:NAME -->): {string.Join(", ", typed)}");
    }

    // A line that starts with "<!--" opens an HTML block in CommonMark, which would cut the sentence around an inline
    // number out of its paragraph; inline markers must sit inside a line.
    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void NoLineStartsWithAnInlineNumber(string id)
    {
        var lines = Markdown(id).Split('\n').Select((l, k) => (Line: l, Number: k + 1))
            .Where(x => x.Line.TrimStart().StartsWith("<!-- generated:number:", StringComparison.Ordinal)).Select(x => x.Number).ToArray();
        Assert.True(lines.Length == 0, $"papers/{id}/paper.md: lines {string.Join(", ", lines)} start with an inline number marker; join them to the line before.");
    }

    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void ThePaperStatesTheCommandThatProducedItAtFullScale(string id)
    {
        var results = Results(id);
        Assert.Equal(id, results.Paper);
        Assert.Equal(PaperCatalog.Find(id).Title, results.Title);
        Assert.Equal("full", results.Scale);
        Assert.Equal(PaperCatalog.CommandLine(id, PaperScale.Full), results.Command);
        var command = Assert.Single(PaperMarkdown.Blocks(Markdown(id)), b => b.Kind == "command");
        var lines = command.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["```sh", results.Command, "```"], lines);
        Assert.StartsWith("# " + results.Title + "\n", Markdown(id));
    }

    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void TheFolderHoldsExactlyTheFilesResultsJsonLists(string id) =>
        Assert.Equal(Results(id).Files, PaperTestFiles.RelativeFiles(PaperTestFiles.Folder(id)));

    [Fact]
    public void EveryPaperFolderBelongsToACataloguedPaper()
    {
        var folders = Directory.GetDirectories(PaperTestFiles.PapersFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(PaperCatalog.Ids.Order(StringComparer.Ordinal), folders);
    }
}
