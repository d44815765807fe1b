namespace AutoDiffLstm.IO;

/// <summary>The dtype names of the safetensors format and their element sizes in bytes.</summary>
internal static class SafetensorsDTypes
{
    public const string F32 = "F32";
    public const string F64 = "F64";

    // Every byte-sized-or-larger dtype the format defines, so that a header can be validated (offsets against shapes) even
    // for tensors this library cannot hold; only F32 and F64 are ever materialised.
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <summary>Bytes per element, or null for a name the format does not define (or one smaller than a byte).</summary>
    public static int? ElementSize(string dtype) => ElementSizes.TryGetValue(dtype, out int size) ? size : null;

    /// <summary>The dtype a tensor is stored as: F32 for <c>Tensor&lt;float&gt;</c>, F64 for <c>Tensor&lt;double&gt;</c>.</summary>
    public static string Of(TensorBase tensor) => tensor switch
    {
        Tensor<float> => F32,
        Tensor<double> => F64,
        _ => throw new NotSupportedException($"Safetensors: tensors of type {tensor.GetType().Name} cannot be stored; only Tensor<float> (F32) and Tensor<double> (F64) can."),
    };

    public static bool IsLoadable(string dtype) => dtype is F32 or F64;
}
