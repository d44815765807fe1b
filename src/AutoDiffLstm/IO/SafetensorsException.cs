namespace AutoDiffLstm.IO;

/// <summary>
/// A safetensors file that cannot be read, or whose contents do not match what the caller expects. The message names the
/// file, the tensor (when one is to blame) and what was expected versus found. Derives from <see cref="IOException"/>,
/// so callers that only care about "this file could not be used" catch it together with missing or unreadable files
/// (it is not an <see cref="InvalidDataException"/>).
/// </summary>
public sealed class SafetensorsException : IOException
{
    /// <summary>The file that was being read.</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem concerns (the first one when several are reported), or null for file-level problems.</summary>
    public string? TensorName { get; }

    internal SafetensorsException(string filePath, string? tensorName, string message, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }
}
