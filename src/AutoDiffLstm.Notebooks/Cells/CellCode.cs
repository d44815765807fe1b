using System.Text.RegularExpressions;

namespace AutoDiffLstm.Notebooks.Cells;

/// <summary>What a code cell turned out to be once its Polyglot magic lines were handled.</summary>
public enum CellCodeKind
{
    /// <summary>C# to run.</summary>
    CSharp,
    /// <summary>A code cell whose first line is <c>#!markdown</c>: the kernel renders it as prose, so nothing runs.</summary>
    Markdown,
    /// <summary>
    /// The cell that points the kernel at the local package feed (its first line starts with
    /// <see cref="CellCode.PackageLoaderMarker"/>): kernel plumbing that the twin, which references the project, leaves out.
    /// </summary>
    PackageLoader,
}

/// <summary>
/// A code cell's C# with the Polyglot magic lines dealt with, as the twin generator writes it (or, for a <c>#!markdown</c>
/// cell, <see cref="MarkdownText"/> as comments).
/// </summary>
/// <param name="Code">The C# with magic lines replaced by empty lines, so that compiler line numbers still match the cell.</param>
/// <param name="RemovedLines">The magic lines that were removed, for reporting.</param>
public sealed record CellCode(CellCodeKind Kind, string Code, string MarkdownText, IReadOnlyList<string> RemovedLines)
{
    /// <summary>How the package-loader cell of every notebook starts (see notebooks/README.md).</summary>
    public const string PackageLoaderMarker = "// Loads AutoDiffLstm from the repository's local feed";

    /// <summary>The packages a notebook may load with <c>#r "nuget: …"</c>: this repository's own, which the twin gets through <c>#:project</c>.</summary>
    public static IReadOnlyList<string> OwnPackages { get; } = ["AutoDiffLstm", "AutoDiffLstm.Experiments"];

    /// <summary>
    /// Handles magic lines the way the twin needs:
    /// <list type="bullet">
    /// <item><c>#!csharp</c> (also <c>#!c#</c>, <c>#!C#</c>): selects the C# kernel, which is the only one here; removed.</item>
    /// <item><c>#!markdown</c> as the first line: the rest of the cell is prose; not run, written as comments in the twin.</item>
    /// <item><c>#!time</c>: asks the kernel to time the cell; removed (timings would make every run rewrite the file).</item>
    /// <item><c>#r "nuget: AutoDiffLstm.Experiments, 0.1.0"</c> (or <c>AutoDiffLstm</c>): loads the packed library into the
    /// kernel; removed, because the twin references the project with <c>#:project</c>.</item>
    /// <item>A cell whose first line starts with <see cref="PackageLoaderMarker"/>: <see cref="CellCodeKind.PackageLoader"/>.</item>
    /// <item>Any other <c>#!</c> magic, <c>#r</c> (other NuGet packages and DLL paths included), <c>#i</c> or <c>#load</c>: rejected
    /// with a <see cref="NotebookMagicException"/>, because the twin could not do the same (add packages to
    /// AutoDiffLstm.Experiments instead).</item>
    /// </list>
    /// </summary>
    /// <param name="cellIndex">Index of the cell in the notebook, for error messages.</param>
    public static CellCode Prepare(string source, int cellIndex)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first >= 0 && lines[first].TrimStart().StartsWith(PackageLoaderMarker, StringComparison.Ordinal))
            return new CellCode(CellCodeKind.PackageLoader, "", "", [lines[first].Trim()]);
        if (first >= 0 && IsMagic(lines[first], "markdown"))
            return new CellCode(CellCodeKind.Markdown, "", string.Join('\n', lines.Skip(first + 1)).Trim('\n'), [lines[first].Trim()]);

        var removed = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (IsMagic(line, "csharp") || IsMagic(line, "c#") || IsMagic(line, "C#") || IsMagic(line, "time"))
            {
                removed.Add(line);
                lines[i] = "";
            }
            else if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                throw new NotebookMagicException(cellIndex, i, line,
                    "this magic command is not supported (only #!csharp, #!markdown and #!time are); the file-based twin could not do the same");
            }
            else if (ReferenceDirective.Match(line) is { Success: true } r)
            {
                string target = r.Groups["target"].Value;
                if (!target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                    throw new NotebookMagicException(cellIndex, i, line, "DLL references are not supported: load the library with #r \"nuget: AutoDiffLstm.Experiments, <version>\" from the local feed (the twin uses #:project)");
                string package = target["nuget:".Length..].Split(',')[0].Trim();
                if (!OwnPackages.Contains(package, StringComparer.OrdinalIgnoreCase))
                    throw new NotebookMagicException(cellIndex, i, line, $"the NuGet package '{package}' is not supported (only {string.Join(" and ", OwnPackages)}): add it to src/AutoDiffLstm.Experiments instead, so that the notebook and its twin both get it");
                removed.Add(line);
                lines[i] = "";
            }
            else if (OtherDirective.IsMatch(line))
            {
                throw new NotebookMagicException(cellIndex, i, line, "#r, #i and #load directives other than #r \"nuget: AutoDiffLstm…\" are not supported (the feed is added by the package-loader cell)");
            }
        }
        return new CellCode(CellCodeKind.CSharp, string.Join('\n', lines), "", removed);
    }

    /// <summary>True when the code has nothing but whitespace (after magic lines were removed).</summary>
    public bool IsBlank => Kind == CellCodeKind.CSharp && string.IsNullOrWhiteSpace(Code);

    private static bool IsMagic(string line, string name)
    {
        string t = line.Trim();
        return t.StartsWith("#!" + name, StringComparison.Ordinal) && (t.Length == name.Length + 2 || char.IsWhiteSpace(t[name.Length + 2]));
    }

    private static readonly Regex ReferenceDirective = new("""^#r\s+"(?<target>[^"]*)"\s*$""", RegexOptions.CultureInvariant);
    private static readonly Regex OtherDirective = new("""^#(r|i|load)(\s|$)""", RegexOptions.CultureInvariant);
}

/// <summary>A magic line that the twin cannot honour.</summary>
public sealed class NotebookMagicException(int cellIndex, int line, string text, string reason)
    : Exception($"cell {cellIndex}, line {line + 1}: `{text}`: {reason}.")
{
    /// <summary>Index of the cell in the notebook.</summary>
    public int CellIndex { get; } = cellIndex;
    /// <summary>The offending line as written.</summary>
    public string Line { get; } = text;
}
