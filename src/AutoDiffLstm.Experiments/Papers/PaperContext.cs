using System.Globalization;
using System.Text.RegularExpressions;
using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Output;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>A column of a paper table: its header and, for numbers, the .NET format of the Markdown cell (the CSV keeps full precision).</summary>
public sealed record TableColumn(string Header, string? Format = null);

/// <summary>
/// What a paper definition writes to while it runs: it picks sizes by scale, saves figures and tables under the paper
/// folder, and registers the numbers its prose quotes. The generator turns the registrations into results.json.
/// </summary>
public sealed partial class PaperContext
{
    private readonly SortedDictionary<string, GeneratedNumber> numbers = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, GeneratedTable> tables = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, GeneratedFigure> figures = new(StringComparer.Ordinal);
    private readonly SortedSet<string> files = new(StringComparer.Ordinal);
    private readonly Action<string>? log;
    private readonly object logLock = new();

    internal PaperContext(string outDir, PaperScale scale, Action<string>? log, string studiesFolder = PaperGenerator.DefaultStudiesFolder)
    {
        OutDir = outDir;
        Scale = scale;
        this.log = log;
        StudiesFolder = studiesFolder;
    }

    /// <summary>
    /// The folder of the committed studies (<c>adl sweep</c> outputs) a paper may read, at every scale: by default
    /// <c>studies</c> under the current directory (the repository root, where papers are generated).
    /// </summary>
    public string StudiesFolder { get; }

    /// <summary>Reads the committed study <paramref name="name"/> under <see cref="StudiesFolder"/> (see <see cref="CommittedStudy.Read"/>).</summary>
    public CommittedStudy Study(string name, string reader) => CommittedStudy.Read(StudiesFolder, name, reader);

    /// <summary>The paper folder.</summary>
    public string OutDir { get; }

    /// <summary>The scale of this run.</summary>
    public PaperScale Scale { get; }

    /// <summary>The full-scale value normally, the CI one at CI scale.</summary>
    public T Pick<T>(T full, T ci) => Scale == PaperScale.Ci ? ci : full;

    /// <summary>Progress for the console (safe to call from parallel runs).</summary>
    public void Log(string message)
    {
        lock (logLock) log?.Invoke(message);
    }

    /// <summary>Registers a number quoted in the prose, shown as <c>value.ToString(format)</c> (invariant culture).</summary>
    public void Number(string name, double value, string format) =>
        Add(numbers, name, new GeneratedNumber(value, value.ToString(format, CultureInfo.InvariantCulture)), "number");

    /// <summary>Registers words quoted in the prose that are not one number (a list of seeds, a cell's name).</summary>
    public void Text(string name, string text) => Add(numbers, name, new GeneratedNumber(null, text), "number");

    /// <summary>
    /// Writes <c>tables/{name}.csv</c> (raw values) and registers the table the Markdown shows (cells formatted per
    /// column; null cells empty; strings as they are).
    /// </summary>
    public void Table(string name, string caption, IReadOnlyList<TableColumn> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var raw = rows.ToArray();
        foreach (var row in raw)
            if (row.Count != columns.Count)
                throw new ArgumentException($"Paper table '{name}': a row has {row.Count} cells; there are {columns.Count} columns ({string.Join(", ", columns.Select(c => c.Header))}).");
        string csv = $"{PaperGenerator.TablesFolder}/{CheckName(name, "table")}.csv";
        ResultFiles.WriteCsv(Path.Combine(OutDir, csv), columns.Select(c => c.Header).ToArray(), raw);
        var align = columns.Select((_, k) => raw.Length > 0 && raw.All(r => r[k] is null || IsNumber(r[k])) ? "right" : "left").ToArray();
        var cells = raw.Select(r => (IReadOnlyList<string>)r.Select((v, k) => Format(v, columns[k].Format)).ToArray()).ToArray();
        Add(tables, name, new GeneratedTable(caption, csv, columns.Select(c => c.Header).ToArray(), align, cells), "table");
        AddFile(csv);
    }

    /// <summary>Writes <c>figures/{name}.png</c>, <c>.svg</c> and the plotted points as <c>data/{name}.csv</c>, and registers the figure.</summary>
    public void Figure(string name, string caption, LineFigure figure)
    {
        string stem = $"{PaperGenerator.FiguresFolder}/{CheckName(name, "figure")}", data = $"{PaperGenerator.DataFolder}/{name}.csv";
        figure.Save(Path.Combine(OutDir, stem));
        ResultFiles.WriteCsv(Path.Combine(OutDir, data), ["series", "x", "y"],
            figure.Series.SelectMany(s => s.X.Select((x, k) => (IReadOnlyList<object?>)[s.Label, x, s.Y[k]])));
        Add(figures, name, new GeneratedFigure(caption, stem + ".png", stem + ".svg", data), "figure");
        AddFile(stem + ".png");
        AddFile(stem + ".svg");
        AddFile(data);
    }

    /// <summary>
    /// Copies a figure someone else rendered (a study's <c>{source}.png</c> and <c>.svg</c>) to <c>figures/{name}</c>, and
    /// the CSV of what it shows, <paramref name="dataCsv"/>, to <c>data/{name}.csv</c>; registers the figure.
    /// </summary>
    public void CopyFigure(string name, string caption, string source, string dataCsv)
    {
        string stem = $"{PaperGenerator.FiguresFolder}/{CheckName(name, "figure")}", data = $"{PaperGenerator.DataFolder}/{name}.csv";
        foreach (var (from, to) in new[] { (source + ".png", stem + ".png"), (source + ".svg", stem + ".svg"), (dataCsv, data) })
        {
            // Written through AtomicFile like every other paper file, so an interrupted run leaves no half-copied figure.
            AutoDiffLstm.IO.AtomicFile.WriteAllBytes(Path.Combine(OutDir, to), File.ReadAllBytes(from));
            AddFile(to);
        }
        Add(figures, name, new GeneratedFigure(caption, stem + ".png", stem + ".svg", data), "figure");
    }

    /// <summary>
    /// The results of the finished run. Every paper also gets the numbers "scale", "runtime-seconds",
    /// "runtime-minutes" and "processor-count", so its prose can state what the run cost.
    /// </summary>
    internal PaperResults Results(IPaper paper, string command, double seconds)
    {
        Text("scale", PaperScales.Name(Scale));
        Number("runtime-seconds", seconds, "F0");
        Number("runtime-minutes", seconds / 60, "F1");
        int cores = Math.Min(Environment.ProcessorCount, Parallelism.MaxThreads); // what the run was allowed (--threads)
        Number("processor-count", cores, "F0");
        return new()
        {
            Paper = paper.Id, Title = paper.Title, Command = command, Scale = PaperScales.Name(Scale),
            RuntimeSeconds = Math.Round(seconds, 1), ProcessorCount = cores,
            Numbers = numbers, Tables = tables, Figures = figures,
            Files = [.. files.Append(PaperGenerator.PaperFile).Append(PaperGenerator.ResultsFile).Order(StringComparer.Ordinal)],
        };
    }

    internal IReadOnlyCollection<string> WrittenFiles => files;

    private void AddFile(string relative)
    {
        lock (files) files.Add(relative);
    }

    private static void Add<TItem>(SortedDictionary<string, TItem> into, string name, TItem item, string kind)
    {
        CheckName(name, kind);
        lock (into)
            if (!into.TryAdd(name, item)) throw new ArgumentException($"Paper {kind} '{name}' is registered twice.");
    }

    private static string CheckName(string name, string kind) =>
        NamePattern().IsMatch(name ?? "") ? name!
            : throw new ArgumentException($"Paper {kind} name '{name}' must be lower-case words of letters and digits joined by '-', e.g. 'flow-summary'.");

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    internal static partial Regex NamePattern();

    private static bool IsNumber(object? v) => v is double or float or int or long or ulong or uint or short or decimal;

    private static string Format(object? v, string? format) => v switch
    {
        null => "",
        string s => s,
        double d when !double.IsFinite(d) => double.IsNaN(d) ? "n/a" : d > 0 ? "inf" : "-inf",
        IFormattable f => f.ToString(format, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
