using System.Globalization;
using System.Text;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>A CSV file read back: its header and its rows as strings (RFC 4180 quoting, as <c>ResultFiles.WriteCsv</c> writes).</summary>
public sealed record CsvTable(string Path, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>The cell of <paramref name="row"/> in column <paramref name="column"/>, or an error naming the file and its columns.</summary>
    public string Cell(IReadOnlyList<string> row, string column)
    {
        int k = Header.ToList().IndexOf(column);
        if (k < 0) throw new InvalidDataException($"{Path} has no column '{column}'; its columns: {string.Join(", ", Header)}.");
        return row[k];
    }

    /// <summary>The cell as a number (invariant culture), or an error naming the file, column and text.</summary>
    public double Number(IReadOnlyList<string> row, string column)
    {
        string text = Cell(row, column);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v : throw new InvalidDataException($"{Path}: column '{column}' holds '{text}', not a number.");
    }

    /// <summary>Reads <paramref name="path"/>; every row must have as many fields as the header.</summary>
    public static CsvTable Read(string path)
    {
        var records = Parse(File.ReadAllText(path));
        if (records.Count == 0) throw new InvalidDataException($"{path} is empty; it should start with a header line.");
        for (int k = 1; k < records.Count; k++)
            if (records[k].Count != records[0].Count)
                throw new InvalidDataException($"{path}: line {k + 1} has {records[k].Count} fields; the header has {records[0].Count}.");
        return new CsvTable(path, records[0], records.Skip(1).ToArray());
    }

    private static List<IReadOnlyList<string>> Parse(string text)
    {
        var records = new List<IReadOnlyList<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
                continue;
            }
            switch (c)
            {
                case '"': quoted = true; any = true; break;
                case ',': record.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    if (any || field.Length > 0) { record.Add(field.ToString()); records.Add(record); }
                    record = new List<string>(); field.Clear(); any = false;
                    break;
                default: field.Append(c); any = true; break;
            }
        }
        if (any || field.Length > 0) { record.Add(field.ToString()); records.Add(record); }
        return records;
    }
}

/// <summary>
/// A study committed under <c>studies/&lt;name&gt;/</c> by <c>adl sweep</c>, read by a paper: its gathered tables
/// (results.csv, summary.csv, importance.csv) and figures. The paper takes its numbers from these files, so a missing
/// file is an error that names it and the command that writes it.
/// </summary>
public sealed class CommittedStudy
{
    private CommittedStudy(string name, string folder, CsvTable results, CsvTable summary, CsvTable importance)
    {
        Name = name;
        Folder = folder;
        Results = results;
        Summary = summary;
        Importance = importance;
    }

    /// <summary>The study's name (its file is <c>studies/{Name}.json</c>).</summary>
    public string Name { get; }
    /// <summary>The study folder.</summary>
    public string Folder { get; }
    /// <summary>results.csv: one row per run.</summary>
    public CsvTable Results { get; }
    /// <summary>summary.csv: one row per case and grid point.</summary>
    public CsvTable Summary { get; }
    /// <summary>importance.csv: the functional-ANOVA effects per case.</summary>
    public CsvTable Importance { get; }

    /// <summary>The command that writes the study's files, for error messages and the paper's prose.</summary>
    public static string SweepCommand(string studiesFolder, string name)
    {
        string dir = studiesFolder.Replace('\\', '/').TrimEnd('/');
        return $"adl sweep {dir}/{name}.json --out {dir}/{name}";
    }

    /// <summary>
    /// Reads study <paramref name="name"/> from <c>{studiesFolder}/{name}/</c>. A missing file throws
    /// <see cref="FileNotFoundException"/> naming it and the <c>adl sweep</c> command that produces it.
    /// </summary>
    public static CommittedStudy Read(string studiesFolder, string name, string reader)
    {
        string folder = Path.Combine(studiesFolder, name);
        CsvTable Table(string file)
        {
            string path = Path.Combine(folder, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"{reader} reads the study '{name}' from {path}, which does not exist. Produce it with `{SweepCommand(studiesFolder, name)}` (from the repository root; about 20 minutes on 2 cores), or point --studies at the folder that holds {name}/.", path);
            return CsvTable.Read(path);
        }
        return new CommittedStudy(name, folder, Table(Sweeps.StudyResults.CsvFile), Table(Sweeps.StudySummary.CsvFile), Table(Sweeps.StudyImportance.CsvFile));
    }

    /// <summary>
    /// The path without extension of figure <paramref name="stem"/> under the study's figures/ folder; its PNG and SVG
    /// must exist.
    /// </summary>
    public string Figure(string stem)
    {
        string basePath = Path.Combine(Folder, Sweeps.StudyFigures.Folder, stem);
        foreach (var ext in new[] { ".png", ".svg" })
            if (!File.Exists(basePath + ext))
                throw new FileNotFoundException($"The study '{Name}' has no figure {basePath + ext}; its folder is incomplete: produce it with `{SweepCommand(Path.GetDirectoryName(Folder) ?? ".", Name)}`.", basePath + ext);
        return basePath;
    }
}
