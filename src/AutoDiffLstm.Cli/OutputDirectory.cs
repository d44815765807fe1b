namespace AutoDiffLstm.Cli;

/// <summary>
/// The --out directory, checked before any work: a run that trains for an hour and then cannot write its results
/// has lost the hour. The directory is created if missing, and a file is created in it and removed again, so that a
/// read-only or otherwise unwritable place is refused at once with a message naming the option.
/// </summary>
internal static class OutputDirectory
{
    /// <summary>Creates <paramref name="dir"/> if needed and proves it writable; throws ArgumentException naming <paramref name="option"/> otherwise.</summary>
    public static string Prepare(string dir, string option = "--out")
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new ArgumentException($"{option}: the directory name is empty.");
        if (File.Exists(dir))
            throw new ArgumentException($"{option} '{dir}' is a file, not a directory; give a directory (it is created if missing).");
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ArgumentException($"{option} '{dir}' cannot be created: {Reason(e)}. Give a writable directory.", e);
        }
        try
        {
            string probe = Path.Combine(dir, $".adl-write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ArgumentException($"{option} '{dir}' cannot be written: {Reason(e)}. Give a writable directory.", e);
        }
        return dir;
    }

    private static string Reason(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied (or a read-only file system)",
        DirectoryNotFoundException => "a parent directory does not exist or cannot be created",
        // Some file systems (/proc, /sys) answer "could not find" to a create: say what it means.
        FileNotFoundException => "this place does not allow new files (a read-only or virtual file system)",
        _ => e.Message.TrimEnd('.'),
    };
}
