using AutoDiffLstm.Experiments.Papers;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Papers;

/// <summary>
/// The online-learning and Lyapunov sections at CI scale: the committed paper's text for them renders from what the
/// sections register alone, every table and figure they register is shown there, and the files it links are on disk.
/// </summary>
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

    // The sections' part of paper 3: from their first heading up to the paper's Limits.
    private static string CommittedSections()
    {
        string markdown = File.ReadAllText(Path.Combine(PaperTestFiles.Folder("second-order-and-online"), PaperGenerator.PaperFile));
        int start = markdown.IndexOf("## Online gradients", StringComparison.Ordinal), end = markdown.IndexOf("## Limits", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "papers/second-order-and-online/paper.md has no '## Online gradients' section before '## Limits'");
        return markdown[start..end];
    }

    [Fact]
    public void AtCiScaleTheCommittedSectionsRenderFromTheSectionsResults()
    {
        var context = new PaperContext(temp.Path, PaperScale.Ci, null);
        OnlineLearningSections.Run(context);
        var results = context.Results(new Host(), "adl paper test", 1);
        string markdown = CommittedSections();
        var shown = PaperMarkdown.Blocks(markdown).Select(b => b.Key).ToHashSet();
        var registered = results.Tables.Keys.Select(k => "table:" + k).Concat(results.Figures.Keys.Select(k => "figure:" + k)).ToArray();
        Assert.NotEmpty(registered);
        Assert.All(registered, k => Assert.Contains(k, shown));
        string rendered = PaperMarkdown.Render(markdown, results); // throws on a block the sections do not register
        Assert.DoesNotContain("<!-- generated:number:rtrl-max-difference --><!-- /generated -->", rendered);
        foreach (string file in PaperMarkdown.LinkedFiles(rendered)) Assert.True(File.Exists(Path.Combine(temp.Path, file)), file);

        // The exactness claim holds at this size too: RTRL equals BPTT for every built-in cell.
        Assert.True(results.Numbers["rtrl-max-difference"].Value < 1e-10, results.Numbers["rtrl-max-difference"].Text);
        var costs = results.Tables["online-costs"];
        Assert.Equal(3 * 2 * 2, costs.Rows.Count);
        Assert.Equal(["rtrl", "uoro", "bptt"], costs.Rows.Take(3).Select(r => r[0]));
    }
}
