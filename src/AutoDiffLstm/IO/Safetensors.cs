using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AutoDiffLstm.IO;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face), so weights can move between this library and PyTorch.
/// Layout: an unsigned 64-bit little-endian header length N; N bytes of UTF-8 JSON mapping each tensor name to
/// <c>{"dtype": "F32"|"F64", "shape": [...], "data_offsets": [begin, end]}</c> plus an optional
/// <c>"__metadata__"</c> object of strings; then the byte buffer, in which each tensor occupies [begin, end) as
/// contiguous little-endian row-major elements. The buffer must be covered by the tensors exactly (no holes or
/// overlaps). Only F32 and F64 are supported, matching <c>Tensor&lt;float&gt;</c> and <c>Tensor&lt;double&gt;</c>.
/// </summary>
public static class Safetensors
{
    // Writers pad the header with spaces so that the byte buffer starts 8-byte aligned in the file, which lets readers
    // that map the file view F64 data in place.
    private const int Alignment = 8;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order) and optional string <paramref name="metadata"/> to
    /// <paramref name="path"/> atomically: a temporary file in the same directory is written and flushed, then moved
    /// over the target, so a crash leaves either the old file or the complete new one. Names must be non-empty, unique
    /// and not <c>__metadata__</c>; everything is validated before anything is written.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, TensorBase>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var items = ValidateForSave(path, tensors, metadata);
        byte[] header = BuildHeader(items, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[SafetensorsHeader.PrefixBytes];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var (_, tensor) in items) TensorBytes.Write(stream, tensor);
        });
    }

    /// <summary>
    /// Reads every tensor of the file into new tensors (F32 as <c>Tensor&lt;float&gt;</c>, F64 as
    /// <c>Tensor&lt;double&gt;</c>) together with its metadata. The header is validated completely first; a file with any
    /// other dtype is rejected with a message naming the tensor and its dtype.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is malformed, truncated, or holds a dtype other than F32/F64.</exception>
    public static SafetensorsContents Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = OpenRead(path);
        var header = SafetensorsHeader.Read(stream, path);
        foreach (var entry in header.Entries)
        {
            if (!SafetensorsDTypes.IsLoadable(entry.DType))
                throw SafetensorsHeader.Error(path, entry.Name, $"tensor '{entry.Name}' has dtype {entry.DType}; only F32 (Tensor<float>) and F64 (Tensor<double>) can be loaded.");
            CheckDimensionsFit(path, entry);
        }
        var tensors = new List<KeyValuePair<string, TensorBase>>(header.Entries.Count);
        foreach (var entry in header.Entries)
            tensors.Add(new(entry.Name, ReadTensor(stream, header, entry, path)));
        return new SafetensorsContents(path, tensors, header.Metadata);
    }

    /// <summary>
    /// Copies the file's values into existing tensors (typically a model's parameters) by name, all or nothing: first
    /// every destination name must be in the file with the same dtype (F32 for <c>Tensor&lt;float&gt;</c>, F64 for
    /// <c>Tensor&lt;double&gt;</c>) and the same shape, and, unless <paramref name="allowExtra"/>, every tensor of the
    /// file must have a destination; then all values are read into staging arrays; only then are the destinations
    /// overwritten. Any problem throws before a single destination element changes. Gradients are left as they are.
    /// </summary>
    /// <param name="allowExtra">Ignore tensors in the file that no destination asks for (they are validated, not read).</param>
    /// <exception cref="SafetensorsException">The file is malformed or does not match the destinations; the message lists every mismatch.</exception>
    public static void LoadInto(string path, IEnumerable<KeyValuePair<string, TensorBase>> destination, bool allowExtra = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(destination);
        var targets = ValidateDestinations(destination);
        using var stream = OpenRead(path);
        var header = SafetensorsHeader.Read(stream, path);
        CheckMatch(path, header, targets, allowExtra);

        var staged = new List<(TensorBase Target, TensorBase Values)>(targets.Count);
        foreach (var (name, target) in targets)
            staged.Add((target, ReadTensor(stream, header, header.ByName[name], path)));
        foreach (var (target, values) in staged)
        {
            if (target is Tensor<float> f) ((Tensor<float>)values).Data.CopyTo(f.Data, 0);
            else ((Tensor<double>)values).Data.CopyTo(((Tensor<double>)target).Data, 0);
        }
    }

    private static List<KeyValuePair<string, TensorBase>> ValidateForSave(string path, IEnumerable<KeyValuePair<string, TensorBase>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var items = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in items)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException($"Safetensors.Save '{path}': a tensor name is {(name is null ? "null" : "empty")}; every tensor needs a non-empty name.", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"Safetensors.Save '{path}': '{name}' is reserved for the metadata and cannot name a tensor.", nameof(tensors));
            if (!IsValidUtf16(name))
                throw new ArgumentException($"Safetensors.Save '{path}': tensor name '{name}' contains an unpaired surrogate and cannot be encoded as UTF-8.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"Safetensors.Save '{path}': the tensor name '{name}' appears more than once; names must be unique.", nameof(tensors));
            if (tensor is null)
                throw new ArgumentException($"Safetensors.Save '{path}': tensor '{name}' is null.", nameof(tensors));
            tensor.ThrowIfRecycled($"Safetensors.Save '{path}', tensor '{name}'");
            SafetensorsDTypes.Of(tensor);
        }
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (value is null)
                    throw new ArgumentException($"Safetensors.Save '{path}': metadata entry '{key}' is null; metadata values must be strings.", nameof(metadata));
                if (!IsValidUtf16(key) || !IsValidUtf16(value))
                    throw new ArgumentException($"Safetensors.Save '{path}': metadata entry '{key}' contains an unpaired surrogate and cannot be encoded as UTF-8.", nameof(metadata));
            }
        }
        return items;
    }

    private static byte[] BuildHeader(List<KeyValuePair<string, TensorBase>> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable in the file; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in items)
            {
                string dtype = SafetensorsDTypes.Of(tensor);
                long bytes = (long)tensor.Size * SafetensorsDTypes.ElementSize(dtype)!.Value;
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + Alignment - 1) / Alignment * Alignment;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static List<KeyValuePair<string, TensorBase>> ValidateDestinations(IEnumerable<KeyValuePair<string, TensorBase>> destination)
    {
        var targets = destination.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in targets)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException("Safetensors.LoadInto: a destination name is null or empty.", nameof(destination));
            if (!names.Add(name))
                throw new ArgumentException($"Safetensors.LoadInto: the destination name '{name}' appears more than once.", nameof(destination));
            if (tensor is null)
                throw new ArgumentException($"Safetensors.LoadInto: destination tensor '{name}' is null.", nameof(destination));
            tensor.ThrowIfRecycled($"Safetensors.LoadInto, destination '{name}'"); // writing into it would corrupt whoever reuses the storage
        }
        return targets;
    }

    /// <summary>Collects every mismatch between the file and the destinations, so one failed load shows all of them.</summary>
    private static void CheckMatch(string path, SafetensorsHeader header, List<KeyValuePair<string, TensorBase>> targets, bool allowExtra)
    {
        var problems = new List<(string Tensor, string Text)>();
        foreach (var (name, target) in targets)
        {
            string dtype = SafetensorsDTypes.Of(target);
            string shape = target.ShapeText;
            if (!header.ByName.TryGetValue(name, out var entry))
            {
                problems.Add((name, $"tensor '{name}' is missing from the file (expected {dtype} {shape})"));
                continue;
            }
            bool dtypeMatches = entry.DType == dtype;
            bool shapeMatches = entry.Shape.AsSpan().SequenceEqual(target.Shape.Select(d => (long)d).ToArray());
            if (!dtypeMatches && !shapeMatches)
                problems.Add((name, $"tensor '{name}': expected {dtype} {shape} but the file has {entry.DType} {entry.ShapeText}"));
            else if (!dtypeMatches)
                problems.Add((name, $"tensor '{name}': expected dtype {dtype} but the file has {entry.DType} (shape {entry.ShapeText} matches)"));
            else if (!shapeMatches)
                problems.Add((name, $"tensor '{name}': expected shape {shape} but the file has {entry.ShapeText} ({dtype})"));
        }
        if (!allowExtra)
        {
            var wanted = targets.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var entry in header.Entries)
                if (!wanted.Contains(entry.Name))
                    problems.Add((entry.Name, $"tensor '{entry.Name}' ({entry.DType} {entry.ShapeText}) is in the file but has no destination (pass allowExtra: true to ignore it)"));
        }
        if (problems.Count == 0) return;
        string list = string.Join("\n", problems.Select(p => "  - " + p.Text + "."));
        throw SafetensorsHeader.Error(path, problems[0].Tensor,
            $"{problems.Count} mismatch{(problems.Count == 1 ? "" : "es")} between the file and the destination tensors; nothing was loaded:\n{list}");
    }

    private static TensorBase ReadTensor(Stream stream, SafetensorsHeader header, SafetensorsEntry entry, string path)
    {
        int[] dims = CheckDimensionsFit(path, entry);
        int count = ShapeMath.Size(dims);
        stream.Position = header.BufferStart + entry.Begin;
        try
        {
            if (entry.DType == SafetensorsDTypes.F32)
            {
                float[] data = count == 0 ? [] : GC.AllocateUninitializedArray<float>(count);
                TensorBytes.Read(stream, data);
                return new Tensor<float>(dims, data);
            }
            else
            {
                double[] data = count == 0 ? [] : GC.AllocateUninitializedArray<double>(count);
                TensorBytes.Read(stream, data);
                return new Tensor<double>(dims, data);
            }
        }
        catch (EndOfStreamException ex)
        {
            // The header was checked against the file's length, so this means the file shrank while being read.
            throw SafetensorsHeader.Error(path, entry.Name, $"tensor '{entry.Name}': the file ended while reading its bytes [{entry.Begin}, {entry.End}) (was it modified during the load?).", ex);
        }
    }

    private static int[] CheckDimensionsFit(string path, SafetensorsEntry entry)
    {
        long elements = 1;
        foreach (long d in entry.Shape) elements *= d; // cannot overflow: the header check bounded elements * size
        if (elements > int.MaxValue || entry.Shape.Any(d => d > int.MaxValue))
            throw SafetensorsHeader.Error(path, entry.Name, $"tensor '{entry.Name}' has shape {entry.ShapeText} ({elements} elements); tensors here hold at most {int.MaxValue}.");
        return entry.Shape.Select(d => (int)d).ToArray();
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);

    private static bool IsValidUtf16(string text)
    {
        try
        {
            StrictUtf8.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }
}
