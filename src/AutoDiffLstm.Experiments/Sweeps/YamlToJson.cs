using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// Turns a YAML study file into the JSON tree the JSON reader takes, so both formats share one reader and one set of
/// messages. Plain scalars become numbers, booleans or null when they read as such (YAML 1.2 core schema); quoted
/// scalars stay strings.
/// </summary>
public static class YamlToJson
{
    /// <summary>Parses one YAML document (an empty file gives null).</summary>
    public static JsonNode? Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0) return null;
        if (stream.Documents.Count > 1) throw new YamlException("a study file holds one YAML document, this one has " + stream.Documents.Count);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) Write(stream.Documents[0].RootNode, writer);
        // Re-parsing gives element-backed values that behave exactly like those of a JSON file.
        return JsonNode.Parse(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void Write(YamlNode node, Utf8JsonWriter w)
    {
        switch (node)
        {
            case YamlMappingNode map:
                w.WriteStartObject();
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode k) throw new YamlException(key.Start, key.End, "mapping keys must be plain names");
                    w.WritePropertyName(k.Value ?? "");
                    Write(value, w);
                }
                w.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                w.WriteStartArray();
                foreach (var item in seq.Children) Write(item, w);
                w.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                string text = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded) { w.WriteStringValue(text); break; }
                if (text is "" or "~" or "null" or "Null" or "NULL") w.WriteNullValue();
                else if (text is "true" or "True" or "TRUE") w.WriteBooleanValue(true);
                else if (text is "false" or "False" or "FALSE") w.WriteBooleanValue(false);
                else if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) w.WriteNumberValue(l);
                else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) w.WriteNumberValue(d);
                else w.WriteStringValue(text);
                break;
            default:
                throw new YamlException(node.Start, node.End, $"unsupported YAML node {node.NodeType} (anchors and aliases are not used in study files)");
        }
    }
}
