using System.Text;
using System.Text.RegularExpressions;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// One generated block of a paper: <c>&lt;!-- generated:KIND:NAME --&gt;BODY&lt;!-- /generated --&gt;</c> (the
/// command block has no name). <see cref="Start"/> and <see cref="Length"/> locate the body.
/// </summary>
public sealed record GeneratedBlock(string Kind, string? Name, int Start, int Length, string Body)
{
    /// <summary>"number:lstm-decay", "table:flow-summary", "command".</summary>
    public string Key => Name is null ? Kind : Kind + ":" + Name;
}

/// <summary>
/// The generated parts of a paper's Markdown. Prose is hand-written; every number, table, figure and the command are
/// blocks between markers that <see cref="Render"/> rewrites from results.json and nothing else:
/// <list type="bullet">
/// <item><c>&lt;!-- generated:number:NAME --&gt;…&lt;!-- /generated --&gt;</c>: inline, the number's text;</item>
/// <item><c>generated:table:NAME</c>: a Markdown table, then its caption with a link to the CSV;</item>
/// <item><c>generated:figure:NAME</c>: the PNG, then its caption with links to the SVG and the plotted data;</item>
/// <item><c>generated:command</c>: the command line that regenerates the paper, as a shell code block.</item>
/// </list>
/// Block kinds (all but number) put their content on lines of its own between the markers.
/// </summary>
public static partial class PaperMarkdown
{
    /// <summary>The kinds of generated block.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["number", "table", "figure", "command"];

    private const string Close = "<!-- /generated -->";

    [GeneratedRegex(@"<!--\s*generated:(?<kind>[a-z]+)(?::(?<name>[a-z0-9-]+))?\s*-->")]
    private static partial Regex OpenMarker();

    [GeneratedRegex(@"<!--\s*/generated\s*-->")]
    private static partial Regex CloseMarker();

    [GeneratedRegex(@"!?\[[^\]]*\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();

    /// <summary>The generated blocks in order; throws on an unknown kind, a missing or extra name, nesting or a missing close.</summary>
    public static IReadOnlyList<GeneratedBlock> Blocks(string markdown)
    {
        var blocks = new List<GeneratedBlock>();
        int position = 0;
        while (true)
        {
            var open = OpenMarker().Match(markdown, position);
            var close = CloseMarker().Match(markdown, position);
            if (!open.Success)
            {
                if (close.Success) throw new InvalidDataException($"Paper: '{Close}' at line {Line(markdown, close.Index)} closes no generated block.");
                return blocks;
            }
            if (close.Success && close.Index < open.Index)
                throw new InvalidDataException($"Paper: '{Close}' at line {Line(markdown, close.Index)} closes no generated block.");
            string kind = open.Groups["kind"].Value;
            string? name = open.Groups["name"].Success ? open.Groups["name"].Value : null;
            if (!Kinds.Contains(kind))
                throw new InvalidDataException($"Paper: unknown generated block kind '{kind}' at line {Line(markdown, open.Index)}; valid kinds: {string.Join(", ", Kinds)}.");
            if ((kind == "command") != (name is null))
                throw new InvalidDataException($"Paper: '{open.Value}' at line {Line(markdown, open.Index)}: " +
                    (name is null ? $"a {kind} block needs a name, as in <!-- generated:{kind}:some-name -->." : "the command block takes no name: <!-- generated:command -->."));
            int bodyStart = open.Index + open.Length;
            close = CloseMarker().Match(markdown, bodyStart);
            if (!close.Success) throw new InvalidDataException($"Paper: generated block '{open.Value}' at line {Line(markdown, open.Index)} is never closed with '{Close}'.");
            var nested = OpenMarker().Match(markdown, bodyStart);
            if (nested.Success && nested.Index < close.Index)
                throw new InvalidDataException($"Paper: generated block '{open.Value}' at line {Line(markdown, open.Index)} contains another one at line {Line(markdown, nested.Index)}; blocks do not nest.");
            blocks.Add(new GeneratedBlock(kind, name, bodyStart, close.Index - bodyStart, markdown[bodyStart..close.Index]));
            position = close.Index + close.Length;
        }
    }

    /// <summary>
    /// <paramref name="markdown"/> with every generated block's body replaced by its rendering from
    /// <paramref name="results"/>; everything outside the blocks is returned unchanged. Throws if a block names
    /// something results.json does not have.
    /// </summary>
    public static string Render(string markdown, PaperResults results)
    {
        var sb = new StringBuilder(markdown.Length);
        int position = 0;
        foreach (var block in Blocks(markdown))
        {
            sb.Append(markdown, position, block.Start - position).Append(RenderBody(block.Kind, block.Name, results));
            position = block.Start + block.Length;
        }
        return sb.Append(markdown, position, markdown.Length - position).ToString();
    }

    /// <summary>The body of one block: the number's text inline, or for the other kinds "\n" + content + "\n".</summary>
    public static string RenderBody(string kind, string? name, PaperResults results) => kind switch
    {
        "number" => Find(results.Numbers, name!, kind, results).Text,
        "table" => "\n" + TableMarkdown(Find(results.Tables, name!, kind, results)) + "\n",
        "figure" => "\n" + FigureMarkdown(Find(results.Figures, name!, kind, results)) + "\n",
        "command" => "\n```sh\n" + results.Command + "\n```\n",
        _ => throw new InvalidDataException($"Paper: unknown generated block kind '{kind}'; valid kinds: {string.Join(", ", Kinds)}."),
    };

    /// <summary>
    /// A paper with every generated item under a heading and no prose, written when a paper folder has no paper.md yet
    /// (for example a fresh <c>--out</c> folder); replace its placeholder lines with prose and keep the markers.
    /// </summary>
    public static string Skeleton(PaperResults results)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(results.Title).Append("\n\n");
        sb.Append("<!-- Skeleton written by the paper generator because this folder had no paper.md: every generated item is listed below. ")
          .Append("Write the prose around the markers; the generator only ever rewrites what lies between them. -->\n\n");
        sb.Append("To regenerate every figure, table and number:\n\n<!-- generated:command -->").Append(RenderBody("command", null, results)).Append(Close).Append("\n\n");
        sb.Append("## Numbers\n\n");
        foreach (var name in results.Numbers.Keys)
            sb.Append("- ").Append(name).Append(": <!-- generated:number:").Append(name).Append(" -->").Append(RenderBody("number", name, results)).Append(Close).Append('\n');
        foreach (var (kind, names) in new[] { ("table", results.Tables.Keys), ("figure", results.Figures.Keys) })
            foreach (var name in names)
                sb.Append("\n## ").Append(kind).Append(' ').Append(name).Append("\n\n<!-- generated:").Append(kind).Append(':').Append(name).Append(" -->")
                  .Append(RenderBody(kind, name, results)).Append(Close).Append('\n');
        return sb.ToString();
    }

    /// <summary>Relative targets of the Markdown's links and images (web addresses and in-page anchors left out).</summary>
    public static IReadOnlyList<string> LinkedFiles(string markdown) =>
        Link().Matches(markdown).Select(m => m.Groups["target"].Value)
            .Where(t => !t.Contains("://", StringComparison.Ordinal) && !t.StartsWith('#') && !t.StartsWith("mailto:", StringComparison.Ordinal))
            .Select(t => t.Split('#')[0]).Distinct(StringComparer.Ordinal).ToArray();

    private static string TableMarkdown(GeneratedTable table)
    {
        var sb = new StringBuilder();
        sb.Append("| ").AppendJoin(" | ", table.Columns.Select(Cell)).Append(" |\n");
        sb.Append('|').AppendJoin('|', table.Align.Select(a => a == "right" ? "---:" : ":---")).Append("|\n");
        foreach (var row in table.Rows) sb.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
        sb.Append('\n').Append('*').Append(table.Caption).Append("* ([CSV](").Append(table.Csv).Append("))");
        return sb.ToString();
    }

    private static string FigureMarkdown(GeneratedFigure figure) =>
        $"![{figure.Caption.Replace("]", ")", StringComparison.Ordinal).Replace("[", "(", StringComparison.Ordinal)}]({figure.Png})\n\n*{figure.Caption}* ([SVG]({figure.Svg}), [data]({figure.Data}))";

    // A '|' inside a cell would end it; Markdown tables take it escaped.
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static TItem Find<TItem>(IReadOnlyDictionary<string, TItem> items, string name, string kind, PaperResults results) =>
        items.TryGetValue(name, out var item) ? item
            : throw new InvalidDataException($"Paper '{results.Paper}': the Markdown has a generated {kind} '{name}' that results.json does not have; " +
                $"its {kind}s are: {(items.Count == 0 ? "none" : string.Join(", ", items.Keys))}.");

    private static int Line(string text, int index) => 1 + text.AsSpan(0, index).Count('\n');
}
