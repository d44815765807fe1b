namespace AutoDiffLstm.IO;

/// <summary>
/// Writes a file so that readers see either the old contents or the complete new ones, never a half-written file: the
/// data goes to a temporary file in the same directory (same volume, so the final rename is atomic), is flushed to disk,
/// and only then replaces the target. On any failure the temporary file is deleted and the target is untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary files, so that leftovers of a killed process are recognisable.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Writes through <paramref name="write"/> into a temporary sibling of <paramref name="path"/>, then moves it into place. The directory must exist.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"Cannot write '{path}': it names a root directory, not a file.", nameof(path));
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Atomically writes UTF-8 text (no byte-order mark).</summary>
    public static void WriteAllText(string path, string text)
    {
        var bytes = new System.Text.UTF8Encoding(false).GetBytes(text);
        Write(path, s => s.Write(bytes));
    }

    /// <summary>Atomically writes bytes.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    private static void TryDelete(string temp)
    {
        try { File.Delete(temp); }
        catch (IOException) { /* the original exception matters more than a leftover temp file */ }
        catch (UnauthorizedAccessException) { }
    }
}
