using System.Text.RegularExpressions;
using AutoDiffLstm.Experiments.Papers;

namespace AutoDiffLstm.Tests.Papers;

/// <summary>Locations of the committed papers, and reading a paper folder the way the tests compare them.</summary>
internal static partial class PaperTestFiles
{
    /// <summary>The repository root: the folder above the test binaries that holds AutoDiffLstm.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string PapersFolder => Path.Combine(RepositoryRoot, "papers");

    public static string Folder(string id) => Path.Combine(PapersFolder, id);

    /// <summary>The committed studies (adl sweep outputs) some papers read.</summary>
    public static string StudiesFolder => Path.Combine(RepositoryRoot, "studies");

    /// <summary>Every paper of the catalogue (each must be committed under papers/).</summary>
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var id in PaperCatalog.Ids) data.Add(id);
        return data;
    }

    /// <summary>Every file under <paramref name="folder"/>, relative with '/', sorted.</summary>
    public static string[] RelativeFiles(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// The prose of a paper: the Markdown with every generated block's body removed (markers kept), so two versions of
    /// a paper can be compared outside the generated parts.
    /// </summary>
    public static string Prose(string markdown)
    {
        var blocks = PaperMarkdown.Blocks(markdown);
        var sb = new System.Text.StringBuilder();
        int position = 0;
        foreach (var b in blocks)
        {
            sb.Append(markdown, position, b.Start - position);
            position = b.Start + b.Length;
        }
        return sb.Append(markdown, position, markdown.Length - position).ToString();
    }

    /// <summary>
    /// Decimal fractions and powers of ten written in the prose itself (outside generated blocks, code, comments and
    /// link targets): numbers that results belong in generated blocks.
    /// </summary>
    public static IReadOnlyList<string> TypedInNumbers(string markdown)
    {
        string text = Prose(markdown);
        text = Regex.Replace(text, "```.*?```", "", RegexOptions.Singleline);
        text = Regex.Replace(text, "<!--.*?-->", "", RegexOptions.Singleline);
        text = Regex.Replace(text, "`[^`]*`", "");
        text = Regex.Replace(text, @"\]\([^)]*\)", "]");
        return TypedNumber().Matches(text).Select(m => m.Value).ToArray();
    }

    [GeneratedRegex(@"(?<![\w.])\d+\.\d+(?![\w.])|\b\d+(\.\d+)?[eE][-+]?\d+\b|\b1e-?\d+\b")]
    private static partial Regex TypedNumber();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AutoDiffLstm.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No AutoDiffLstm.sln above {AppContext.BaseDirectory}.");
    }
}
