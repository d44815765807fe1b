using System.Globalization;
using System.Text;
using System.Text.Json;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Output;

/// <summary>JSON and CSV results, written atomically so an interrupted run never leaves a half-written file.</summary>
public static class ResultFiles
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Serialises <paramref name="value"/> as indented JSON (NaN and infinities as strings).</summary>
    public static string ToJson<TValue>(TValue value) => JsonSerializer.Serialize(value, Options);

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
