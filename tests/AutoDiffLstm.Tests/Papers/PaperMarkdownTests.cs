using AutoDiffLstm.Experiments.Papers;

namespace AutoDiffLstm.Tests.Papers;

public class PaperMarkdownTests
{
    private static PaperResults Results() => new()
    {
        Paper = "demo-paper", Title = "A demo", Command = "dotnet run -- paper demo-paper", Scale = "ci", RuntimeSeconds = 1.5, ProcessorCount = 2,
        Numbers = new SortedDictionary<string, GeneratedNumber>(StringComparer.Ordinal)
        {
            ["decay"] = new(0.912345, "0.912"),
            ["seeds"] = new(null, "1, 2"),
        },
        Tables = new SortedDictionary<string, GeneratedTable>(StringComparer.Ordinal)
        {
            ["summary"] = new("Two rows.", "tables/summary.csv", ["cell", "||g||"], ["left", "right"], [["rnn", "0.5"], ["lstm", "0.9"]]),
        },
        Figures = new SortedDictionary<string, GeneratedFigure>(StringComparer.Ordinal)
        {
            ["flow"] = new("The flow [log scale].", "figures/flow.png", "figures/flow.svg", "data/flow.csv"),
        },
        Files = ["data/flow.csv", "figures/flow.png", "figures/flow.svg", "paper.md", "results.json", "tables/summary.csv"],
    };

    private const string Paper = """
        # Title

        The decay is <!-- generated:number:decay -->0.5<!-- /generated --> per step (seeds <!-- generated:number:seeds --><!-- /generated -->).

        <!-- generated:table:summary -->
        old table
        <!-- /generated -->

        <!-- generated:figure:flow --><!-- /generated -->

        <!-- generated:command -->
        <!-- /generated -->
        """;

    [Fact]
    public void RenderReplacesOnlyTheBlockBodies()
    {
        string rendered = PaperMarkdown.Render(Paper, Results());
        Assert.Contains("The decay is <!-- generated:number:decay -->0.912<!-- /generated --> per step (seeds <!-- generated:number:seeds -->1, 2<!-- /generated -->).", rendered);
        Assert.Contains("<!-- generated:table:summary -->\n| cell | \\|\\|g\\|\\| |\n|:---|---:|\n| rnn | 0.5 |\n| lstm | 0.9 |\n\n*Two rows.* ([CSV](tables/summary.csv))\n<!-- /generated -->", rendered);
        Assert.Contains("<!-- generated:figure:flow -->\n![The flow (log scale).](figures/flow.png)\n\n*The flow [log scale].* ([SVG](figures/flow.svg), [data](data/flow.csv))\n<!-- /generated -->", rendered);
        Assert.Contains("<!-- generated:command -->\n```sh\ndotnet run -- paper demo-paper\n```\n<!-- /generated -->", rendered);
        Assert.DoesNotContain("old table", rendered);
        Assert.Equal(PaperTestFiles.Prose(Paper), PaperTestFiles.Prose(rendered));
    }

    [Fact]
    public void RenderingTwiceChangesNothing()
    {
        string once = PaperMarkdown.Render(Paper, Results());
        Assert.Equal(once, PaperMarkdown.Render(once, Results()));
    }

    [Fact]
    public void BlocksAreFoundInOrderWithTheirKeys()
    {
        var keys = PaperMarkdown.Blocks(Paper).Select(b => b.Key).ToArray();
        Assert.Equal(["number:decay", "number:seeds", "table:summary", "figure:flow", "command"], keys);
    }

    [Fact]
    public void AnUnknownNameIsReportedWithTheKnownOnes()
    {
        var e = Assert.Throws<InvalidDataException>(() => PaperMarkdown.Render("x <!-- generated:number:missing -->1<!-- /generated -->", Results()));
        Assert.Contains("'missing'", e.Message);
        Assert.Contains("decay, seeds", e.Message);
    }

    [Theory]
    [InlineData("a <!-- generated:number:decay -->1", "never closed")]
    [InlineData("a <!-- /generated --> b", "closes no generated block")]
    [InlineData("<!-- generated:table:summary --> <!-- generated:number:decay --> <!-- /generated --> <!-- /generated -->", "do not nest")]
    [InlineData("<!-- generated:chart:x --><!-- /generated -->", "unknown generated block kind 'chart'")]
    [InlineData("<!-- generated:number --><!-- /generated -->", "needs a name")]
    [InlineData("<!-- generated:command:x --><!-- /generated -->", "takes no name")]
    public void MalformedMarkersAreRejectedWithTheLine(string markdown, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => PaperMarkdown.Blocks("first line\n" + markdown));
        Assert.Contains(expected, e.Message);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void TheSkeletonHoldsEveryItemAndIsAFixedPointOfRendering()
    {
        var results = Results();
        string skeleton = PaperMarkdown.Skeleton(results);
        var keys = PaperMarkdown.Blocks(skeleton).Select(b => b.Key).ToHashSet();
        Assert.Superset(keys, results.Numbers.Keys.Select(k => "number:" + k).Concat(results.Tables.Keys.Select(k => "table:" + k))
            .Concat(results.Figures.Keys.Select(k => "figure:" + k)).Append("command").ToHashSet());
        Assert.Equal(skeleton, PaperMarkdown.Render(skeleton, results));
    }

    [Fact]
    public void LinkedFilesAreTheRelativeTargets()
    {
        string md = "![a](figures/a.png) [csv](tables/b.csv#row) [web](https://example.org/x.png) [anchor](#method) [mail](mailto:x@y)";
        Assert.Equal(["figures/a.png", "tables/b.csv"], PaperMarkdown.LinkedFiles(md));
    }

    [Fact]
    public void TypedInNumbersAreFoundOnlyInTheProse()
    {
        string md = "Decay 0.91 per step, <!-- generated:number:decay -->0.912<!-- /generated -->, `x = 1.5`, 1e-3 and 2.5E+4, year 1997, Figure 2.\n```\n3.25\n```";
        Assert.Equal(["0.91", "1e-3", "2.5E+4"], PaperTestFiles.TypedInNumbers(md));
    }

    [Fact]
    public void ResultsSurviveTheirJsonRoundTrip()
    {
        var results = Results() with { RuntimeSeconds = double.NaN };
        string path = Path.Combine(Path.GetTempPath(), "adl-paper-results-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            results.Save(path);
            var back = PaperResults.Load(path);
            Assert.Equal(results.ToJson(), back.ToJson());
            Assert.Equal(PaperMarkdown.Render(Paper, results), PaperMarkdown.Render(Paper, back));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void LoadingSomethingElseSaysWhatIsWrong()
    {
        string path = Path.Combine(Path.GetTempPath(), "adl-paper-bad-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            File.WriteAllText(path, "{\"paper\": 3}");
            var e = Assert.Throws<InvalidDataException>(() => PaperResults.Load(path));
            Assert.Contains("is not a paper's results.json", e.Message);
            Assert.Throws<FileNotFoundException>(() => PaperResults.Load(path + ".missing"));
        }
        finally { File.Delete(path); }
    }
}
