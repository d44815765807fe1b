using System.Text.Json.Nodes;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>One output of a code cell (nbformat 4 <c>outputs</c> entry).</summary>
public abstract record CellOutput;

/// <summary>Text written to a stream (<c>"output_type": "stream"</c>), <c>stdout</c> or <c>stderr</c>.</summary>
public sealed record StreamOutput(string Name, string Text) : CellOutput;

/// <summary>
/// Rich data: <c>"display_data"</c> (from <c>display(...)</c>) or, when <see cref="ExecutionCount"/> is set,
/// <c>"execute_result"</c> (the value of a cell's trailing expression). <see cref="Data"/> maps MIME types to content:
/// text as is, binary (image/png) base64-encoded.
/// </summary>
public sealed record DisplayOutput(IReadOnlyDictionary<string, string> Data, int? ExecutionCount = null) : CellOutput
{
    /// <summary>True for an <c>execute_result</c>.</summary>
    public bool IsExecuteResult => ExecutionCount is not null;

    /// <summary>Output metadata, kept as read (for example image sizes written by other tools).</summary>
    public JsonObject Metadata { get; init; } = new();

    /// <summary>Data values that are JSON rather than text (such as <c>application/json</c>), kept as read.</summary>
    public JsonObject JsonData { get; init; } = new();
}

/// <summary>An exception or compilation failure (<c>"output_type": "error"</c>).</summary>
public sealed record ErrorOutput(string Name, string Value, IReadOnlyList<string> Traceback) : CellOutput;

/// <summary>An output of a type this model does not know, kept verbatim so that rewriting the file does not lose it.</summary>
public sealed record UnknownOutput(JsonObject Json) : CellOutput;
