using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>
/// Writes a <see cref="NotebookDocument"/> as VS Code's notebook serializer does: object keys sorted ordinally at every
/// level, one-space indentation, text as lists of lines (each but the last ending in "\n"), base64 images as one string,
/// non-ASCII text unescaped, and a final newline.
/// </summary>
internal static class IpynbWriter
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        IndentSize = 1,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(NotebookDocument doc)
    {
        var root = new JsonObject
        {
            ["cells"] = new JsonArray(doc.Cells.Select(CellJson).ToArray<JsonNode?>()),
            ["metadata"] = doc.Metadata.DeepClone(),
            ["nbformat"] = NotebookDocument.Format,
            ["nbformat_minor"] = doc.FormatMinor,
        };
        foreach (var (key, value) in doc.Extra) root[key] = value?.DeepClone();

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options)) Sorted(root)!.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static JsonObject CellJson(NotebookCell cell)
    {
        var json = new JsonObject
        {
            ["cell_type"] = cell.Type switch { CellType.Markdown => "markdown", CellType.Code => "code", _ => "raw" },
            ["metadata"] = cell.Metadata.DeepClone(),
            ["source"] = Lines(cell.Source),
        };
        if (cell.Id is not null) json["id"] = cell.Id;
        if (cell.Type == CellType.Code)
        {
            json["execution_count"] = cell.ExecutionCount;
            json["outputs"] = new JsonArray(cell.Outputs.Select(OutputJson).ToArray<JsonNode?>());
        }
        foreach (var (key, value) in cell.Extra) json[key] = value?.DeepClone();
        return json;
    }

    private static JsonObject OutputJson(CellOutput output)
    {
        switch (output)
        {
            case StreamOutput s:
                return new JsonObject { ["name"] = s.Name, ["output_type"] = "stream", ["text"] = Lines(s.Text) };
            case DisplayOutput d:
                var data = new JsonObject();
                foreach (var (mime, content) in d.Data) data[mime] = IsBase64(mime) ? JsonValue.Create(content) : Lines(content);
                foreach (var (mime, value) in d.JsonData) data[mime] = value?.DeepClone();
                var json = new JsonObject { ["data"] = data, ["metadata"] = d.Metadata.DeepClone() };
                if (d.IsExecuteResult)
                {
                    json["execution_count"] = d.ExecutionCount;
                    json["output_type"] = "execute_result";
                }
                else json["output_type"] = "display_data";
                return json;
            case ErrorOutput e:
                return new JsonObject
                {
                    ["ename"] = e.Name,
                    ["evalue"] = e.Value,
                    ["output_type"] = "error",
                    ["traceback"] = new JsonArray(e.Traceback.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()),
                };
            case UnknownOutput u:
                return (JsonObject)u.Json.DeepClone();
            default:
                throw new ArgumentException($"IpynbWriter: output type {output.GetType().Name} cannot be written.");
        }
    }

    /// <summary>Binary MIME types are stored base64-encoded as one string; SVG is text despite its image/ prefix.</summary>
    private static bool IsBase64(string mime) => mime.StartsWith("image/", StringComparison.Ordinal) && mime != "image/svg+xml";

    /// <summary>nbformat's list-of-lines form: split after each "\n", which stays on its line.</summary>
    internal static JsonArray Lines(string text)
    {
        var lines = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            lines.Add(text[start..end]);
            start = end;
        }
        return lines;
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };
}
