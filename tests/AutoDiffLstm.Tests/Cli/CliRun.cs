using System.Text.Json;
using AdlCli = AutoDiffLstm.Cli.Cli;

namespace AutoDiffLstm.Tests.Cli;

/// <summary>One invocation of the command-line program with captured output.</summary>
internal sealed record CliResult(int Code, string Out, string Err)
{
    public override string ToString() => $"exit {Code}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
}

/// <summary>Runs <c>adl</c> in-process and checks the files it writes.</summary>
internal static class CliRun
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = AdlCli.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and asserts the exit code, showing both streams when it differs.</summary>
    public static CliResult Expect(int code, params string[] args)
    {
        var result = Run(args);
        Assert.True(result.Code == code, $"adl {string.Join(' ', args)}: expected exit {code}\n{result}");
        return result;
    }

    /// <summary>Parses standard output as JSON.</summary>
    public static JsonElement Json(CliResult result)
    {
        try { return JsonDocument.Parse(result.Out).RootElement.Clone(); }
        catch (JsonException e) { throw new Xunit.Sdk.XunitException($"stdout is not JSON ({e.Message}):\n{result.Out}"); }
    }

    public static JsonElement JsonFile(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Asserts <c>{basePath}.png</c> is a PNG and <c>{basePath}.svg</c> an SVG document, both non-trivial.</summary>
    public static void AssertFigure(string basePath)
    {
        var png = File.ReadAllBytes(basePath + ".png");
        Assert.True(png.Length > 1000, $"{basePath}.png has only {png.Length} bytes.");
        Assert.Equal(PngSignature, png[..8]);
        string svg = File.ReadAllText(basePath + ".svg");
        Assert.Contains("<svg", svg);
        Assert.EndsWith("</svg>", svg.TrimEnd());
    }

    /// <summary>The CSV's header and data rows.</summary>
    public static (string Header, string[] Rows) Csv(string path)
    {
        var lines = File.ReadAllLines(path);
        Assert.NotEmpty(lines);
        return (lines[0], lines[1..]);
    }

    /// <summary>Every file's bytes in a directory, to show that a refused command changed nothing.</summary>
    public static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    public static void AssertUnchanged(Dictionary<string, byte[]> before, string directory)
    {
        var after = Snapshot(directory);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed.");
    }
}
