using System.Text.Json.Nodes;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>The nbformat cell types.</summary>
public enum CellType
{
    /// <summary><c>"markdown"</c>: prose.</summary>
    Markdown,
    /// <summary><c>"code"</c>: C# run by the kernel.</summary>
    Code,
    /// <summary><c>"raw"</c>: passed through untouched.</summary>
    Raw,
}

/// <summary>One cell of a <see cref="NotebookDocument"/>.</summary>
public sealed class NotebookCell
{
    /// <summary>Creates a cell; prefer <see cref="Markdown"/> and <see cref="Code"/>.</summary>
    public NotebookCell(CellType type, string source, JsonObject? metadata = null)
    {
        Type = type;
        Source = source;
        Metadata = metadata ?? new JsonObject();
    }

    /// <summary>Markdown, code or raw.</summary>
    public CellType Type { get; }

    /// <summary>The cell's text, lines joined with their line endings (nbformat stores it as a list of lines).</summary>
    public string Source { get; set; }

    /// <summary>Cell metadata (for code cells the Polyglot kernel name).</summary>
    public JsonObject Metadata { get; set; }

    /// <summary>The nbformat 4.5 cell id, when the file has one.</summary>
    public string? Id { get; set; }

    /// <summary>The execution count of a code cell; null when it has not run.</summary>
    public int? ExecutionCount { get; set; }

    /// <summary>Outputs of a code cell, in the order they were produced.</summary>
    public List<CellOutput> Outputs { get; set; } = [];

    /// <summary>Properties this model does not interpret (such as a markdown cell's <c>attachments</c>), kept as read.</summary>
    public JsonObject Extra { get; set; } = new();

    /// <summary>The first non-blank line of the source, trimmed, for error messages.</summary>
    public string FirstLine =>
        Source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";

    /// <summary>A markdown cell.</summary>
    public static NotebookCell Markdown(string source) => new(CellType.Markdown, source);

    /// <summary>A C# code cell with the metadata Polyglot Notebooks writes.</summary>
    public static NotebookCell Code(string source) => new(CellType.Code, source, PolyglotMetadata.CodeCellMetadata());
}
