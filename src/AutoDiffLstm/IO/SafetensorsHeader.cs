using System.Buffers.Binary;
using System.Text.Json;

namespace AutoDiffLstm.IO;

/// <summary>One tensor's header entry. Offsets are relative to the start of the byte buffer; End is one past the last byte.</summary>
internal sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The parsed and fully validated header of a safetensors file. Every number is checked before it is used, so that a
/// truncated, corrupt or hostile file is reported instead of read out of bounds: the header length against the file,
/// each entry's byte count against its dtype and shape, and the entries against each other (they must tile the byte
/// buffer exactly: no overlap, no gap, nothing past its end and nothing left over, as the format requires).
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>Size of the little-endian u64 header-length prefix.</summary>
    public const int PrefixBytes = 8;

    /// <summary>Largest accepted JSON header (the limit the reference implementation uses); guards against absurd allocations.</summary>
    public const long MaxHeaderBytes = 100L << 20;

    public const string MetadataKey = "__metadata__";

    /// <summary>Entries in byte-buffer order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> ByName { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>File position of the byte buffer's first byte.</summary>
    public long BufferStart { get; }

    private SafetensorsHeader(List<SafetensorsEntry> entries, Dictionary<string, string> metadata, long bufferStart)
    {
        Entries = entries;
        ByName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Metadata = metadata;
        BufferStart = bufferStart;
    }

    /// <summary>Reads and validates the header from the start of <paramref name="stream"/>.</summary>
    public static SafetensorsHeader Read(Stream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < PrefixBytes)
            throw Error(path, null, $"the file is {fileLength} bytes long, shorter than the {PrefixBytes}-byte header-length prefix every safetensors file starts with (truncated, or not a safetensors file).");
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        long available = fileLength - PrefixBytes;
        if (headerLength > (ulong)available)
            throw Error(path, null, $"the header length field says {headerLength} bytes, but only {available} bytes follow it in the file (truncated, or not a safetensors file).");
        if (headerLength > MaxHeaderBytes)
            throw Error(path, null, $"the header length field says {headerLength} bytes; headers larger than {MaxHeaderBytes} bytes are rejected.");
        var json = new byte[(int)headerLength];
        stream.ReadExactly(json);
        long bufferStart = PrefixBytes + (long)headerLength;
        return Parse(json, fileLength - bufferStart, bufferStart, path);
    }

    /// <summary>Parses the JSON header and validates it against a byte buffer of <paramref name="bufferLength"/> bytes.</summary>
    internal static SafetensorsHeader Parse(byte[] json, long bufferLength, long bufferStart, string path)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw Error(path, null, $"the JSON header must begin with '{{' but {(json.Length == 0 ? "it is empty" : $"its first byte is 0x{json[0]:X2}")}.");
        // Checked up front: the JSON reader only notices invalid UTF-8 when a string is converted, with a generic error.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw Error(path, null, "the header is not valid UTF-8 text.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw Error(path, null, $"the header is not valid JSON: {ex.Message}", ex);
        }
        using (document)
        {
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // JSON parsers keep one of two duplicate keys silently; the format forbids them, and a reader that
                // guessed which one was meant could load different values than another reader of the same file.
                if (!seen.Add(property.Name))
                    throw Error(path, property.Name, $"the header names '{property.Name}' more than once; keys must be unique.");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, path);
                else entries.Add(ReadEntry(property.Name, property.Value, path));
            }
            CheckTiling(entries, bufferLength, path);
            return new SafetensorsHeader(entries, metadata, bufferStart);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(path, null, $"'{MetadataKey}' must be an object of string values, but it is {Describe(value)}.");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Error(path, null, $"'{MetadataKey}' entry '{item.Name}' must be a string, but it is {Describe(item.Value)}.");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Error(path, null, $"'{MetadataKey}' names '{item.Name}' more than once; keys must be unique.");
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, string path)
    {
        if (name.Length == 0)
            throw Error(path, name, "the header has a tensor with an empty name.");
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(path, name, $"tensor '{name}': expected an object with \"dtype\", \"shape\" and \"data_offsets\", found {Describe(value)}.");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null:
                    if (field.Value.ValueKind != JsonValueKind.String)
                        throw Error(path, name, $"tensor '{name}': \"dtype\" must be a string such as \"F32\", found {Describe(field.Value)}.");
                    dtype = field.Value.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadNonNegativeIntegers(field.Value, name, "shape", path);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadNonNegativeIntegers(field.Value, name, "data_offsets", path);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Error(path, name, $"tensor '{name}': the field \"{field.Name}\" appears more than once.");
                default:
                    throw Error(path, name, $"tensor '{name}': unexpected field \"{field.Name}\"; expected only \"dtype\", \"shape\" and \"data_offsets\".");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw Error(path, name, $"tensor '{name}': missing field \"{(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}\"; expected \"dtype\", \"shape\" and \"data_offsets\".");
        int elementSize = SafetensorsDTypes.ElementSize(dtype)
            ?? throw Error(path, name, $"tensor '{name}': unknown dtype \"{dtype}\".");
        if (offsets.Length != 2)
            throw Error(path, name, $"tensor '{name}': \"data_offsets\" must be [begin, end], found {offsets.Length} numbers.");
        var entry = new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        if (entry.End < entry.Begin)
            throw Error(path, name, $"tensor '{name}': data_offsets [{entry.Begin}, {entry.End}] end before they begin.");
        long expectedBytes;
        try
        {
            expectedBytes = elementSize;
            foreach (long d in shape) expectedBytes = checked(expectedBytes * d);
        }
        catch (OverflowException)
        {
            throw Error(path, name, $"tensor '{name}': shape {entry.ShapeText} has more elements than can be addressed.");
        }
        if (entry.End - entry.Begin != expectedBytes)
            throw Error(path, name, $"tensor '{name}' ({dtype}, shape {entry.ShapeText}) needs {expectedBytes} bytes, but its data_offsets [{entry.Begin}, {entry.End}] span {entry.End - entry.Begin}.");
        return entry;
    }

    private static long[] ReadNonNegativeIntegers(JsonElement value, string name, string field, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw Error(path, name, $"tensor '{name}': \"{field}\" must be an array of non-negative integers, found {Describe(value)}.");
        var result = new long[value.GetArrayLength()];
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long n) || n < 0)
                throw Error(path, name, $"tensor '{name}': \"{field}\" must hold non-negative integers, but element {i} is {item.GetRawText()}.");
            result[i++] = n;
        }
        return result;
    }

    /// <summary>The entries, sorted by offset, must cover [0, bufferLength) exactly once.</summary>
    private static void CheckTiling(List<SafetensorsEntry> entries, long bufferLength, string path)
    {
        // Empty tensors (a zero dimension) occupy no bytes; sorting by (begin, end) puts them before a neighbour that
        // starts at the same offset, where they fit. Names break ties so that error messages do not depend on the sort.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
            : a.End != b.End ? a.End.CompareTo(b.End)
            : string.CompareOrdinal(a.Name, b.Name));
        long covered = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in entries)
        {
            if (e.End > bufferLength)
                throw Error(path, e.Name, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] run past the end of the byte buffer, which has {bufferLength} bytes (the file is truncated or the header is wrong).");
            if (e.Begin < covered)
                throw Error(path, e.Name, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' at [{previous.Begin}, {previous.End}]; tensors must not share bytes.");
            if (e.Begin > covered)
                throw Error(path, e.Name, $"bytes [{covered}, {e.Begin}) of the byte buffer belong to no tensor (the next tensor, '{e.Name}', begins at {e.Begin}); the buffer must be covered without holes.");
            covered = e.End;
            previous = e;
        }
        if (covered != bufferLength)
            throw Error(path, null, $"the byte buffer has {bufferLength} bytes but the tensors cover only the first {covered}; trailing bytes belong to no tensor.");
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {value.GetRawText()}",
        _ => value.GetRawText(),
    };

    internal static SafetensorsException Error(string path, string? tensor, string detail, Exception? inner = null) =>
        new(path, tensor, $"Safetensors file '{path}': {detail}", inner);
}
