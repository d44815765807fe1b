using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>Reads nbformat 4 JSON into a <see cref="NotebookDocument"/>.</summary>
internal static class IpynbReader
{
    public static NotebookDocument Read(string json, string sourceName)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                   ?? throw new NotebookFormatException($"{sourceName}: the file is not a JSON object, so it is not a notebook.");
        }
        catch (JsonException e)
        {
            throw new NotebookFormatException($"{sourceName}: not valid JSON ({e.Message}).", e);
        }

        int format = Int(root, "nbformat", sourceName, "the notebook") ?? -1;
        if (format != NotebookDocument.Format)
            throw new NotebookFormatException($"{sourceName}: nbformat is {(format < 0 ? "missing" : format)}; only nbformat 4 notebooks are supported.");

        var doc = new NotebookDocument
        {
            FormatMinor = Int(root, "nbformat_minor", sourceName, "the notebook") ?? 0,
            Metadata = (root["metadata"]?.DeepClone() as JsonObject) ?? new JsonObject(),
        };
        if (root["cells"] is not JsonArray cells)
            throw new NotebookFormatException($"{sourceName}: 'cells' is missing or not an array.");

        for (int i = 0; i < cells.Count; i++)
        {
            try
            {
                doc.Cells.Add(ReadCell(cells[i] as JsonObject ?? throw new NotebookFormatException($"{sourceName}: cell {i} is not a JSON object."), i, sourceName));
            }
            catch (InvalidOperationException e)
            {
                // A property of the wrong JSON kind (a number where nbformat has a string, say).
                throw new NotebookFormatException($"{sourceName}: cell {i} is malformed ({e.Message}).", e);
            }
        }

        foreach (var (key, value) in root)
            if (key is not ("cells" or "metadata" or "nbformat" or "nbformat_minor")) doc.Extra[key] = value?.DeepClone();
        return doc;
    }

    private static NotebookCell ReadCell(JsonObject json, int index, string sourceName)
    {
        string where = $"cell {index}";
        var type = json["cell_type"]?.GetValue<string>() switch
        {
            "markdown" => CellType.Markdown,
            "code" => CellType.Code,
            "raw" => CellType.Raw,
            var other => throw new NotebookFormatException($"{sourceName}: {where} has cell_type '{other ?? "(missing)"}'; expected markdown, code or raw."),
        };
        var cell = new NotebookCell(type, MultilineString(json["source"], sourceName, where + " source"),
            (json["metadata"]?.DeepClone() as JsonObject) ?? new JsonObject())
        {
            Id = json["id"]?.GetValue<string>(),
        };
        if (type == CellType.Code)
        {
            cell.ExecutionCount = Int(json, "execution_count", sourceName, where);
            if (json["outputs"] is JsonArray outputs)
                for (int k = 0; k < outputs.Count; k++)
                    cell.Outputs.Add(ReadOutput(outputs[k] as JsonObject ?? throw new NotebookFormatException($"{sourceName}: {where} output {k} is not a JSON object."), sourceName, $"{where} output {k}"));
        }
        foreach (var (key, value) in json)
            if (key is not ("cell_type" or "source" or "metadata" or "id" or "execution_count" or "outputs")) cell.Extra[key] = value?.DeepClone();
        return cell;
    }

    private static CellOutput ReadOutput(JsonObject json, string sourceName, string where)
    {
        switch (json["output_type"]?.GetValue<string>())
        {
            case "stream":
                return new StreamOutput(json["name"]?.GetValue<string>() ?? "stdout", MultilineString(json["text"], sourceName, where + " text"));
            case "display_data":
            case "execute_result":
                var text = new SortedDictionary<string, string>(StringComparer.Ordinal);
                var jsonData = new JsonObject();
                if (json["data"] is JsonObject data)
                    foreach (var (mime, value) in data)
                    {
                        if (value is JsonValue || value is JsonArray) text[mime] = MultilineString(value, sourceName, $"{where} {mime}");
                        else jsonData[mime] = value?.DeepClone();
                    }
                bool isResult = json["output_type"]!.GetValue<string>() == "execute_result";
                return new DisplayOutput(text, isResult ? Int(json, "execution_count", sourceName, where) ?? 0 : null)
                {
                    Metadata = (json["metadata"]?.DeepClone() as JsonObject) ?? new JsonObject(),
                    JsonData = jsonData,
                };
            case "error":
                return new ErrorOutput(json["ename"]?.GetValue<string>() ?? "", json["evalue"]?.GetValue<string>() ?? "",
                    (json["traceback"] as JsonArray)?.Select(n => n?.GetValue<string>() ?? "").ToArray() ?? []);
            default:
                return new UnknownOutput((JsonObject)json.DeepClone());
        }
    }

    /// <summary>nbformat multiline strings are a string or a list of strings to be joined with nothing in between.</summary>
    private static string MultilineString(JsonNode? node, string sourceName, string where)
    {
        try
        {
            switch (node)
            {
                case null: return "";
                case JsonArray lines:
                    var sb = new StringBuilder();
                    foreach (var line in lines) sb.Append(line?.GetValue<string>());
                    return sb.ToString();
                default: return node.GetValue<string>();
            }
        }
        catch (InvalidOperationException e)
        {
            throw new NotebookFormatException($"{sourceName}: {where} must be a string or a list of strings.", e);
        }
    }

    private static int? Int(JsonObject json, string key, string sourceName, string where)
    {
        var node = json[key];
        if (node is null) return null;
        try { return node.GetValue<int>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new NotebookFormatException($"{sourceName}: {where} has '{key}' = {node.ToJsonString()}; expected an integer or null.", e);
        }
    }
}
