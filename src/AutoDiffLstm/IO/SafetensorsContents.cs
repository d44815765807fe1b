using System.Numerics;

namespace AutoDiffLstm.IO;

/// <summary>Everything <see cref="Safetensors.Load"/> read from a file: the tensors by name and the string metadata.</summary>
public sealed class SafetensorsContents
{
    /// <summary>The tensors by name; each is a <c>Tensor&lt;float&gt;</c> (F32) or <c>Tensor&lt;double&gt;</c> (F64), a new leaf.</summary>
    public IReadOnlyDictionary<string, TensorBase> Tensors { get; }

    /// <summary>The tensor names in the order their bytes appear in the file.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The file's <c>__metadata__</c> strings (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The file the contents came from.</summary>
    public string FilePath { get; }

    internal SafetensorsContents(string filePath, List<KeyValuePair<string, TensorBase>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = filePath;
        Names = tensors.Select(t => t.Key).ToArray();
        Tensors = tensors.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        Metadata = metadata;
    }

    /// <summary>The tensor called <paramref name="name"/> as <c>Tensor&lt;T&gt;</c>, with a clear error when it is absent or of the other precision.</summary>
    public Tensor<T> Get<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Tensors.TryGetValue(name, out var tensor))
            throw new KeyNotFoundException($"Safetensors file '{FilePath}': no tensor named '{name}'. It holds: {DescribeNames(Names)}.");
        return tensor as Tensor<T>
            ?? throw new InvalidCastException($"Safetensors file '{FilePath}': tensor '{name}' is {SafetensorsDTypes.Of(tensor)}, not {(typeof(T) == typeof(float) ? SafetensorsDTypes.F32 : SafetensorsDTypes.F64)}; ask for Get<{(tensor is Tensor<float> ? "float" : "double")}>.");
    }

    internal static string DescribeNames(IReadOnlyList<string> names)
    {
        const int Shown = 20;
        if (names.Count == 0) return "no tensors";
        string list = string.Join(", ", names.Take(Shown).Select(n => $"'{n}'"));
        return names.Count > Shown ? $"{list}, ... ({names.Count} in all)" : list;
    }
}
