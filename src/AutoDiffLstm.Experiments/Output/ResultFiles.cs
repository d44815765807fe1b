using System.Globalization;
using System.Text;
using System.Text.Json;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Output;

/// <summary>JSON and CSV results, written atomically so an interrupted run never leaves a half-written file.</summary>
public static class ResultFiles
{
    /// <summary>
    /// The one set of JSON settings for every file the experiments and the command line write and read (results,
    /// checkpoint metadata, standard output): snake_case keys (<c>final_loss</c>, <c>sequence_length</c>), indented, NaN
    /// and infinities as the strings "NaN", "Infinity", "-Infinity". Anything that reads these files back (a sweep
    /// reading train's results, a resumed checkpoint) uses the same options, so names cannot drift apart. The schema of
    /// each command's JSON is documented in docs/json-schema.md.
    /// </summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Files and a terminal, never HTML: "+" and "'" stay as they are instead of \u002B and \u0027.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Serialises <paramref name="value"/> with <see cref="JsonOptions"/>.</summary>
    public static string ToJson<TValue>(TValue value) => JsonSerializer.Serialize(value, JsonOptions);

    /// <summary>Reads JSON written by <see cref="ToJson{TValue}"/>.</summary>
    public static TValue? FromJson<TValue>(string json) => JsonSerializer.Deserialize<TValue>(json, JsonOptions);

    /// <summary>Writes <paramref name="value"/> as JSON to <paramref name="path"/>, creating the directory.</summary>
    public static void WriteJson<TValue>(string path, TValue value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, ToJson(value));
    }

    /// <summary>Writes a CSV table (invariant culture, round-trip precision); fields with commas or quotes are quoted.</summary>
    public static void WriteCsv(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', header.Select(Field)).Append('\n');
        foreach (var row in rows)
        {
            if (row.Count != header.Count) throw new ArgumentException($"WriteCsv({path}): a row has {row.Count} fields; the header has {header.Count}.");
            sb.AppendJoin(',', row.Select(v => Field(v switch
            {
                null => "",
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString() ?? "",
            }))).Append('\n');
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string Field(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
