using System.Text;
using System.Text.Json;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Tests.IO;

/// <summary>Byte-level checks against the format description: hand-built files are read correctly, and written files have the documented layout.</summary>
public sealed class SafetensorsFormatTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void LoadReadsAFileBuiltByHandFromTheSpecification()
    {
        // F32 [2, 2] = [[1, -2.5], [0.15625, -0]], F64 [] = 0.5, F32 [0, 3] (no bytes); metadata; spaces after the JSON.
        // IEEE 754 bit patterns, little-endian: 1f = 3F800000, -2.5f = C0200000, 0.15625f = 3E200000, -0f = 80000000,
        // 0.5 = 3FE0000000000000.
        byte[] payload =
        [
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0, 0x00, 0x00, 0x20, 0x3E, 0x00, 0x00, 0x00, 0x80,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0x3F,
        ];
        const string header = """
            {"__metadata__":{"format":"pt","note":"ünïcode ✓"},
             "gates.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},
             "empty":{"dtype":"F32","shape":[0,3],"data_offsets":[16,16]},
             "scale":{"dtype":"F64","shape":[],"data_offsets":[16,24]}}
            """;
        string path = dir.File("hand.safetensors");
        File.WriteAllBytes(path, SafetensorsBytes.Build(header, payload));

        var contents = Safetensors.Load(path);

        Assert.Equal(["gates.weight", "empty", "scale"], contents.Names);
        var w = contents.Get<float>("gates.weight");
        Assert.Equal([2, 2], w.Shape);
        Assert.Equal([1f, -2.5f, 0.15625f, -0f], w.ToArray());
        Assert.True(float.IsNegative(w[1, 1]), "-0 must keep its sign bit");
        var empty = contents.Get<float>("empty");
        Assert.Equal([0, 3], empty.Shape);
        Assert.Equal(0, empty.Size);
        var scale = contents.Get<double>("scale");
        Assert.Equal(0, scale.Rank);
        Assert.Equal(0.5, scale.Item());
        Assert.Equal("pt", contents.Metadata["format"]);
        Assert.Equal("ünïcode ✓", contents.Metadata["note"]);
    }

    [Fact]
    public void LoadAcceptsAnUnpaddedHeader()
    {
        string path = dir.File("unpadded.safetensors");
        byte[] bytes = SafetensorsBytes.Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
            [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0], padTo8: false);
        Assert.NotEqual(0, (bytes.Length - 8) % 8); // the case under test: buffer not 8-aligned
        File.WriteAllBytes(path, bytes);

        Assert.Equal([1f, -2.5f], Safetensors.Load(path).Get<float>("w").ToArray());
    }

    [Fact]
    public void SaveWritesTheDocumentedLayout()
    {
        var a = Tensor.FromArray([1f, -2.5f, 0.15625f], 3);
        var b = Tensor.FromArray([0.5, -1.0], 2, 1);
        var s = Tensor.Scalar(2f);
        string path = dir.File("layout.safetensors");
        Safetensors.Save(path, [new("a", a), new("b.weight", b), new("s", s)], new Dictionary<string, string> { ["format"] = "pt" });

        byte[] file = File.ReadAllBytes(path);
        ulong n = HeaderLength(file);
        Assert.True(n % 8 == 0, $"header length {n} should be padded to a multiple of 8 so the buffer is 8-byte aligned");
        string headerText = Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.StartsWith("{", headerText);
        Assert.All(headerText[(headerText.LastIndexOf('}') + 1)..], c => Assert.Equal(' ', c)); // padding is spaces only

        using var json = JsonDocument.Parse(headerText);
        var root = json.RootElement;
        Assert.Equal(["__metadata__", "a", "b.weight", "s"], root.EnumerateObject().Select(p => p.Name).OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
        AssertEntry(root, "a", "F32", [3], 0, 12);
        AssertEntry(root, "b.weight", "F64", [2, 1], 12, 28);
        AssertEntry(root, "s", "F32", [], 28, 32);

        byte[] buffer = file[(8 + (int)n)..];
        byte[] expected =
        [
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0, 0x00, 0x00, 0x20, 0x3E,          // a
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0xBF, // b: 0.5, -1
            0x00, 0x00, 0x00, 0x40,                                                          // s: 2f
        ];
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void SaveWithoutMetadataWritesNoMetadataKey()
    {
        string path = dir.File("nometa.safetensors");
        Safetensors.Save(path, [new("x", Tensor.Scalar(1.0))]);
        byte[] file = File.ReadAllBytes(path);
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, (int)HeaderLength(file)));
        Assert.Equal(["x"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Empty(Safetensors.Load(path).Metadata);
    }

    private static ulong HeaderLength(byte[] file)
    {
        ulong n = 0;
        for (int i = 7; i >= 0; i--) n = (n << 8) | file[i];
        return n;
    }

    private static void AssertEntry(JsonElement root, string name, string dtype, int[] shape, long begin, long end)
    {
        var e = root.GetProperty(name);
        Assert.Equal(["data_offsets", "dtype", "shape"], e.EnumerateObject().Select(p => p.Name).OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(dtype, e.GetProperty("dtype").GetString());
        Assert.Equal(shape, e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([begin, end], e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()));
    }
}
