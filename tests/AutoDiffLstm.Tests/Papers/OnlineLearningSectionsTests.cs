using AutoDiffLstm.Experiments.Papers;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Papers;

/// <summary>The online-learning and Lyapunov sections at CI scale: every block they write is registered, rendered and on disk.</summary>
public sealed class OnlineLearningSectionsTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class Host : IPaper
    {
        public string Id => "online-sections-test";
        public string Title => "test host";
        public void Run(PaperContext context) { }
    }

    [Fact]
    public void AtCiScaleEveryGeneratedBlockRendersFromTheRunsResults()
    {
        var context = new PaperContext(temp.Path, PaperScale.Ci, null);
        string markdown = OnlineLearningSections.Run(context);
        var results = context.Results(new Host(), "adl paper test", 1);
        var blocks = PaperMarkdown.Blocks(markdown);
        Assert.Contains(blocks, b => b.Key == "table:rtrl-exactness");
        Assert.Contains(blocks, b => b.Key == "figure:lyapunov-vs-gradient");
        string rendered = PaperMarkdown.Render(markdown, results);
        Assert.DoesNotContain("<!-- generated:number:rtrl-max-difference --><!-- /generated -->", rendered);
        foreach (string file in PaperMarkdown.LinkedFiles(rendered)) Assert.True(File.Exists(Path.Combine(temp.Path, file)), file);

        // The exactness claim holds at this size too: RTRL equals BPTT for every built-in cell.
        Assert.True(results.Numbers["rtrl-max-difference"].Value < 1e-10, results.Numbers["rtrl-max-difference"].Text);
        var costs = results.Tables["online-costs"];
        Assert.Equal(3 * 2 * 2, costs.Rows.Count);
        Assert.Equal(["rtrl", "uoro", "bptt"], costs.Rows.Take(3).Select(r => r[0]));
    }
}
