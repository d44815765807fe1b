using System.Globalization;
using System.Text;

namespace AutoDiffLstm.Experiments.Notebooks;

/// <summary>
/// A table for notebooks: an HTML table in the .NET Interactive kernel (<see cref="ToHtml"/>, registered by the
/// AutoDiffLstm.Interactive extension), aligned plain text (<see cref="ToString"/>) in a file-based twin's console, in the
/// text/plain part of a saved output and in a diff.
/// Numbers are written with invariant culture in <see cref="NumberFormat"/> and right-aligned; everything else is
/// left-aligned.
/// </summary>
/// <example>
/// <code>
/// var table = new TextTable("cell", "final loss");
/// table.AddRow("lstm", 0.0123);
/// display(table);
/// </code>
/// </example>
public sealed class TextTable
{
    private const string Gap = "  ";
    private readonly string[] headers;
    private readonly List<(string Text, bool Number)[]> rows = [];

    /// <summary>A table with these column headers (at least one).</summary>
    public TextTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.Length == 0) throw new ArgumentException("TextTable: a table needs at least one column header.");
        this.headers = headers.Select(h => h ?? "").ToArray();
    }

    /// <summary>How floating-point and decimal cells are written (a .NET numeric format string); "G4" unless set.</summary>
    public string NumberFormat { get; init; } = "G4";

    /// <summary>The column headers.</summary>
    public IReadOnlyList<string> Headers => headers;

    /// <summary>Rows added so far.</summary>
    public int RowCount => rows.Count;

    /// <summary>
    /// Builds a table with one row per item of <paramref name="items"/> and one column per (header, cell) pair, e.g.
    /// <c>TextTable.From(runs, ("run", r =&gt; r.Label), ("final loss", r =&gt; r.Result.Final.Loss))</c>.
    /// </summary>
    public static TextTable From<TItem>(IEnumerable<TItem> items, params (string Header, Func<TItem, object?> Cell)[] columns)
    {
        ArgumentNullException.ThrowIfNull(items);
        var table = new TextTable(columns.Select(c => c.Header).ToArray());
        foreach (var item in items) table.AddRow(columns.Select(c => c.Cell(item)).ToArray());
        return table;
    }

    /// <summary>Appends a row with one value per column; returns the table so rows can be chained.</summary>
    /// <exception cref="ArgumentException">The number of values differs from the number of columns.</exception>
    public TextTable AddRow(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != headers.Length)
            throw new ArgumentException($"TextTable.AddRow: got {cells.Length} values for {headers.Length} columns ({string.Join(", ", headers)}).");
        rows.Add(cells.Select(Format).ToArray());
        return this;
    }

    /// <summary>The table as aligned text: the headers, a rule of dashes, then the rows, columns separated by two spaces.</summary>
    public override string ToString()
    {
        int columns = headers.Length;
        var widths = new int[columns];
        for (int c = 0; c < columns; c++)
            widths[c] = Math.Max(headers[c].Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Text.Length));
        // A column is right-aligned, header included, when every value in it is a number.
        var numeric = Enumerable.Range(0, columns).Select(c => rows.Count > 0 && rows.All(r => r[c].Number || r[c].Text.Length == 0)).ToArray();

        var sb = new StringBuilder();
        void Line(IEnumerable<string> texts, bool[] right)
        {
            var cells = texts.Select((t, c) => right[c] ? t.PadLeft(widths[c]) : t.PadRight(widths[c]));
            sb.Append(string.Join(Gap, cells).TrimEnd()).Append('\n');
        }
        Line(headers, numeric);
        Line(widths.Select(w => new string('-', w)), numeric);
        foreach (var row in rows) Line(row.Select(r => r.Text), row.Select((r, c) => r.Number || numeric[c]).ToArray());
        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>
    /// The table as HTML (<c>&lt;table&gt;</c> with a header row), numeric columns right-aligned as in
    /// <see cref="ToString"/>; the .NET Interactive extension shows tables this way, and the text stays the text/plain form.
    /// </summary>
    public string ToHtml()
    {
        int columns = headers.Length;
        var numeric = Enumerable.Range(0, columns).Select(c => rows.Count > 0 && rows.All(r => r[c].Number || r[c].Text.Length == 0)).ToArray();
        string Align(bool right) => right ? " style=\"text-align:right\"" : " style=\"text-align:left\"";
        var sb = new StringBuilder("<table class=\"adl-table\"><thead><tr>");
        for (int c = 0; c < columns; c++) sb.Append("<th").Append(Align(numeric[c])).Append('>').Append(Encode(headers[c])).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int c = 0; c < columns; c++)
                sb.Append("<td").Append(Align(row[c].Number || numeric[c])).Append('>').Append(Encode(row[c].Text)).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    private static string Encode(string text) => System.Net.WebUtility.HtmlEncode(text);

    private (string, bool) Format(object? value) => value switch
    {
        null => ("", false),
        string s => (s, false),
        double d => (d.ToString(NumberFormat, CultureInfo.InvariantCulture), true),
        float f => (f.ToString(NumberFormat, CultureInfo.InvariantCulture), true),
        decimal m => (m.ToString(NumberFormat, CultureInfo.InvariantCulture), true),
        int or long or short or byte or uint or ulong or ushort or sbyte => (((IFormattable)value).ToString(null, CultureInfo.InvariantCulture), true),
        IFormattable f => (f.ToString(null, CultureInfo.InvariantCulture), false),
        _ => (value.ToString() ?? "", false),
    };
}
