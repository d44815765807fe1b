using System.Text.Json;
using System.Text.Json.Serialization;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>A value quoted in a paper's prose: the number (null for words such as a list of seeds) and the text shown.</summary>
public sealed record GeneratedNumber(double? Value, string Text);

/// <summary>
/// A table of a paper: the formatted cells the Markdown shows and the CSV (relative to the paper folder) holding the
/// same rows at full precision.
/// </summary>
/// <param name="Align">"left" or "right" per column (numbers are right-aligned).</param>
public sealed record GeneratedTable(string Caption, string Csv, IReadOnlyList<string> Columns, IReadOnlyList<string> Align, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>A figure of a paper: PNG and SVG renderings and the CSV of the plotted points, paths relative to the paper folder.</summary>
public sealed record GeneratedFigure(string Caption, string Png, string Svg, string Data);

/// <summary>
/// Everything a paper quotes, as written to its results.json: the command and scale that produced it, the numbers,
/// tables and figures its generated blocks show, and the files written. The Markdown's generated blocks are a pure
/// function of this record (<see cref="PaperMarkdown.Render"/>), which is what makes "no number typed in" checkable.
/// </summary>
public sealed record PaperResults
{
    /// <summary>The paper's id (its folder name under papers/).</summary>
    public required string Paper { get; init; }
    /// <summary>The paper's title.</summary>
    public required string Title { get; init; }
    /// <summary>The command line that produced these results (run from the repository root).</summary>
    public required string Command { get; init; }
    /// <summary>"full" or "ci".</summary>
    public required string Scale { get; init; }
    /// <summary>Wall-clock seconds the experiments took (figures included; varies from run to run and machine to machine).</summary>
    public required double RuntimeSeconds { get; init; }
    /// <summary>Logical processors the run could use: the machine's, or fewer with <c>--threads</c> (<see cref="Parallelism.MaxThreads"/>).</summary>
    public required int ProcessorCount { get; init; }
    /// <summary>Values quoted in the prose, by name.</summary>
    public required IReadOnlyDictionary<string, GeneratedNumber> Numbers { get; init; }
    /// <summary>Tables, by name.</summary>
    public required IReadOnlyDictionary<string, GeneratedTable> Tables { get; init; }
    /// <summary>Figures, by name.</summary>
    public required IReadOnlyDictionary<string, GeneratedFigure> Figures { get; init; }
    /// <summary>Every file of the paper folder the generator owns, relative paths with '/', sorted (paper.md and results.json included).</summary>
    public required IReadOnlyList<string> Files { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The JSON text (indented, snake_case keys, NaN and infinities as strings).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Writes the JSON atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a results.json written by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a paper's results.json.</exception>
    public static PaperResults Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No paper results at '{path}': run the paper's command first (adl paper <id>).", path);
        try
        {
            return JsonSerializer.Deserialize<PaperResults>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"'{path}' holds JSON null, not a paper's results.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a paper's results.json: {e.Message}", e);
        }
    }
}
