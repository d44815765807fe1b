using System.Buffers.Binary;
using System.Text;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Tests.IO;

/// <summary>
/// Every malformed or mismatching file is rejected with a message naming the file, the tensor and expected vs found, and
/// a failed <see cref="Safetensors.LoadInto"/> never modifies a destination tensor.
/// </summary>
public sealed class SafetensorsErrorTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    // ---- LoadInto: mismatches between file and destination ----

    [Fact]
    public void MissingTensorIsReportedAndNothingIsLoaded()
    {
        string path = SaveModel();
        var (w, b) = Destinations();
        var extra = Tensor.Full(7f, 3);

        var ex = AssertLoadIntoFailsWithoutChanges(path, [new("w", w), new("b", b), new("gamma", extra)], allowExtra: false);

        Assert.Equal("gamma", ex.TensorName);
        Assert.Contains("'gamma' is missing", ex.Message);
        Assert.Contains("F32 [3]", ex.Message);
    }

    [Fact]
    public void WrongShapeIsReportedWithExpectedAndFound()
    {
        string path = SaveModel();
        var w = Tensor.Full(9f, 3, 2); // file has [2, 3]
        var b = Tensor.Full(9.0, 2);

        var ex = AssertLoadIntoFailsWithoutChanges(path, [new("w", w), new("b", b)], allowExtra: false);

        Assert.Equal("w", ex.TensorName);
        Assert.Contains("tensor 'w': expected shape [3, 2] but the file has [2, 3]", ex.Message);
    }

    [Fact]
    public void WrongDtypeIsReportedWithExpectedAndFound()
    {
        string path = SaveModel();
        var w = Tensor.Full(9.0, 2, 3); // file has F32
        var b = Tensor.Full(9.0, 2);

        var ex = AssertLoadIntoFailsWithoutChanges(path, [new("w", w), new("b", b)], allowExtra: false);

        Assert.Equal("w", ex.TensorName);
        Assert.Contains("tensor 'w': expected dtype F64 but the file has F32", ex.Message);
    }

    [Fact]
    public void WrongDtypeAndShapeTogetherAreReported()
    {
        string path = SaveModel();
        var (w, _) = Destinations();
        var b = Tensor.Full(9f, 5);

        var ex = AssertLoadIntoFailsWithoutChanges(path, [new("w", w), new("b", b)], allowExtra: false);

        Assert.Contains("tensor 'b': expected F32 [5] but the file has F64 [2]", ex.Message);
    }

    [Fact]
    public void EveryMismatchIsListedInOneMessage()
    {
        string path = SaveModel();
        var w = Tensor.Full(9f, 6);
        var c = Tensor.Full(9f, 1);

        var ex = AssertLoadIntoFailsWithoutChanges(path, [new("w", w), new("c", c)], allowExtra: false);

        Assert.Contains("3 mismatches", ex.Message);
        Assert.Contains("tensor 'w': expected shape [6] but the file has [2, 3]", ex.Message);
        Assert.Contains("tensor 'c' is missing", ex.Message);
        Assert.Contains("tensor 'b' (F64 [2]) is in the file but has no destination", ex.Message);
    }

    [Fact]
    public void ExtraTensorInTheFileIsRejectedUnlessAllowed()
    {
        string path = SaveModel();
        var (w, _) = Destinations();

        var ex = AssertLoadIntoFailsWithoutChanges(path, [new("w", w)], allowExtra: false);
        Assert.Equal("b", ex.TensorName);
        Assert.Contains("allowExtra", ex.Message);

        Safetensors.LoadInto(path, [new("w", w)], allowExtra: true);
        Assert.Equal(ModelW, w.ToArray());
    }

    [Fact]
    public void DuplicateDestinationNamesAreRejected()
    {
        string path = SaveModel();
        var (w, _) = Destinations();
        var ex = Assert.Throws<ArgumentException>(() => Safetensors.LoadInto(path, [new("w", w), new("w", w)], allowExtra: true));
        Assert.Contains("'w' appears more than once", ex.Message);
    }

    // ---- Damaged or malformed files: Load and LoadInto both refuse, naming the file ----

    [Fact]
    public void TruncatedFileIsRejected()
    {
        string path = SaveModel();
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);

        var ex = AssertBothFail(path);
        Assert.Equal("b", ex.TensorName); // the last tensor in the buffer lost its final bytes
        Assert.Contains("run past the end of the byte buffer", ex.Message);
        Assert.Contains($"which has {bytes.Length - 4 - 8 - (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes)} bytes", ex.Message);
    }

    [Fact]
    public void FileShorterThanTheLengthPrefixIsRejected()
    {
        string path = Write([0x10, 0x00, 0x00]);
        var ex = AssertBothFail(path);
        Assert.Contains("the file is 3 bytes long, shorter than the 8-byte header-length prefix", ex.Message);
    }

    [Fact]
    public void HeaderLengthLargerThanTheFileIsRejected()
    {
        byte[] valid = SafetensorsBytes.OneF32Vector();
        byte[] bytes = SafetensorsBytes.Concat(SafetensorsBytes.U64LittleEndian(1000), valid[8..]);
        string path = Write(bytes);

        var ex = AssertBothFail(path);
        Assert.Contains($"the header length field says 1000 bytes, but only {valid.Length - 8} bytes follow it", ex.Message);
    }

    [Fact]
    public void HugeHeaderLengthIsRejectedWithoutAllocating()
    {
        string path = Write(SafetensorsBytes.Concat(SafetensorsBytes.U64LittleEndian(ulong.MaxValue), Encoding.UTF8.GetBytes("{}")));
        var ex = AssertBothFail(path);
        Assert.Contains($"says {ulong.MaxValue} bytes", ex.Message);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]""", "not valid JSON")]              // unterminated
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],}}""", "not valid JSON")]          // trailing comma
    [InlineData("""{"w":{"dtype":"F32",'shape':[2],"data_offsets":[0,8]}}""", "not valid JSON")]          // single quotes
    [InlineData("""["w"]""", "must begin with '{'")]
    [InlineData("""  {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "must begin with '{' but its first byte is 0x20")]
    public void MalformedHeaderJsonIsRejected(string header, string expected)
    {
        string path = Write(SafetensorsBytes.Build(header, [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0]));
        var ex = AssertBothFail(path);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void InvalidUtf8InTheHeaderIsRejected()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"w?":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""");
        json[Array.IndexOf(json, (byte)'?')] = 0xFF;
        byte[] bytes = SafetensorsBytes.Concat(SafetensorsBytes.U64LittleEndian((ulong)json.Length), json, [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0]);
        var ex = AssertBothFail(Write(bytes));
        Assert.Contains("UTF-8", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    // offsets past the end of the buffer
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 12, "b", "tensor 'b': data_offsets [8, 16] run past the end of the byte buffer, which has 12 bytes")]
    // overlapping tensors
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "b", "tensor 'b': data_offsets [4, 12] overlap tensor 'a' at [0, 8]")]
    // the same bytes claimed twice (aliasing)
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "b", "overlap tensor 'a' at [0, 8]")]
    // a hole between tensors
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "b", "bytes [4, 8) of the byte buffer belong to no tensor")]
    // buffer not starting at 0
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "a", "bytes [0, 4) of the byte buffer belong to no tensor")]
    // bytes left over after the last tensor
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, null, "the byte buffer has 12 bytes but the tensors cover only the first 4")]
    // offsets that do not match dtype x shape
    [InlineData("""{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}""", 8, "a", "tensor 'a' (F64, shape [2]) needs 16 bytes, but its data_offsets [0, 8] span 8")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "a", "data_offsets [8, 0] end before they begin")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", 8, "a", "\"data_offsets\" must be [begin, end], found 1 numbers")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[-4,4]}}""", 8, "a", "\"data_offsets\" must hold non-negative integers, but element 0 is -4")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", 8, "a", "\"shape\" must hold non-negative integers, but element 0 is 2.5")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}""", 8, "a", "has more elements than can be addressed")]
    // structural problems
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", 8, "a", "tensor 'a': missing field \"data_offsets\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}""", 8, "a", "unexpected field \"extra\"")]
    [InlineData("""{"a":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}}""", 8, "a", "the field \"dtype\" appears more than once")]
    [InlineData("""{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", 8, "a", "tensor 'a': unknown dtype \"Q4\"")]
    [InlineData("""{"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}""", 8, "a", "\"dtype\" must be a string such as \"F32\", found 32")]
    [InlineData("""{"a":[1,2]}""", 8, "a", "tensor 'a': expected an object with \"dtype\", \"shape\" and \"data_offsets\", found an array")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "a", "names 'a' more than once")]
    [InlineData("""{"__metadata__":{"epoch":3},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, null, "'__metadata__' entry 'epoch' must be a string, but it is 3")]
    [InlineData("""{"__metadata__":"pt","a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, null, "'__metadata__' must be an object of string values, but it is the string \"pt\"")]
    public void InvalidHeaderIsRejected(string header, int payloadBytes, string? tensor, string expected)
    {
        string path = Write(SafetensorsBytes.Build(header, SafetensorsBytes.Zeros(payloadBytes)));
        var ex = AssertBothFail(path);
        Assert.Equal(tensor, ex.TensorName);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void LoadRejectsUnsupportedDtypeNamingTheTensor()
    {
        string path = Write(SafetensorsBytes.Build(
            """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"step":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}""",
            SafetensorsBytes.Concat([0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0], SafetensorsBytes.U64LittleEndian(42))));

        var ex = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.Equal("step", ex.TensorName);
        Assert.Contains("tensor 'step' has dtype I64; only F32 (Tensor<float>) and F64 (Tensor<double>) can be loaded", ex.Message);
        Assert.Contains(path, ex.Message);

        // An extra tensor of another dtype does not stop LoadInto from loading what it asks for...
        var w = Tensor.Zeros<float>(2);
        Safetensors.LoadInto(path, [new("w", w)], allowExtra: true);
        Assert.Equal([1f, -2.5f], w.ToArray());
        // ...but asking for it is a dtype mismatch.
        var step = Tensor.Zeros<double>();
        var mismatch = AssertLoadIntoFailsWithoutChanges(path, [new("w", w), new("step", step)], allowExtra: false);
        Assert.Contains("tensor 'step': expected dtype F64 but the file has I64", mismatch.Message);
    }

    [Fact]
    public void GetReportsMissingNamesAndWrongPrecision()
    {
        string path = Write(SafetensorsBytes.OneF32Vector());
        var contents = Safetensors.Load(path);

        var missing = Assert.Throws<KeyNotFoundException>(() => contents.Get<float>("v"));
        Assert.Contains("no tensor named 'v'. It holds: 'w'", missing.Message);
        var wrong = Assert.Throws<InvalidCastException>(() => contents.Get<double>("w"));
        Assert.Contains("tensor 'w' is F32, not F64; ask for Get<float>", wrong.Message);
    }

    [Fact]
    public void MissingFileThrowsFileNotFound()
    {
        string path = dir.File("absent.safetensors");
        Assert.Throws<FileNotFoundException>(() => Safetensors.Load(path));
        Assert.Throws<FileNotFoundException>(() => Safetensors.LoadInto(path, [new("w", Tensor.Zeros<float>(2))]));
    }

    // ---- helpers ----

    private static readonly float[] ModelW = [1, 2, 3, 4, 5, 6];
    private static readonly double[] ModelB = [-1, -2];

    /// <summary>A valid file with "w" F32 [2, 3] and "b" F64 [2].</summary>
    private string SaveModel()
    {
        string path = dir.File("model.safetensors");
        Safetensors.Save(path, [new("w", Tensor.FromArray(ModelW, 2, 3)), new("b", Tensor.FromArray(ModelB))]);
        return path;
    }

    /// <summary>Destinations of the right dtype and shape, filled with a sentinel value.</summary>
    private static (Tensor<float> W, Tensor<double> B) Destinations() => (Tensor.Full(9f, 2, 3), Tensor.Full(9.0, 2));

    private string Write(byte[] bytes)
    {
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Load and LoadInto (into sentinel-filled tensors) both throw, naming the file; the destinations are unchanged.</summary>
    private static SafetensorsException AssertBothFail(string path)
    {
        var ex = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains($"'{path}'", ex.Message);
        var fromLoadInto = AssertLoadIntoFailsWithoutChanges(path, [new("w", Tensor.Full(9f, 2)), new("a", Tensor.Full(9f, 2))], allowExtra: true);
        Assert.Equal(ex.Message, fromLoadInto.Message); // file-level validation comes before matching
        return ex;
    }

    private static SafetensorsException AssertLoadIntoFailsWithoutChanges(string path, KeyValuePair<string, TensorBase>[] destination, bool allowExtra)
    {
        var before = destination.Select(d => Snapshot(d.Value)).ToArray();
        var ex = Assert.Throws<SafetensorsException>(() => Safetensors.LoadInto(path, destination, allowExtra));
        Assert.Contains($"'{path}'", ex.Message);
        for (int i = 0; i < destination.Length; i++)
            Assert.Equal(before[i], Snapshot(destination[i].Value));
        return ex;
    }

    private static long[] Snapshot(TensorBase t) => t switch
    {
        Tensor<float> f => f.ToArray().Select(v => (long)BitConverter.SingleToInt32Bits(v)).ToArray(),
        Tensor<double> d => d.ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray(),
        _ => throw new NotSupportedException(),
    };
}
