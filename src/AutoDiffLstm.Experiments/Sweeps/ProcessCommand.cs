namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>How to start the <c>adl</c> program: an executable and the arguments that come before the subcommand (e.g. <c>dotnet adl.dll</c>).</summary>
public sealed record ProcessCommand(string FileName, IReadOnlyList<string> PrefixArgs)
{
    /// <summary>
    /// The command for the <c>adl</c> whose main assembly is <paramref name="assemblyPath"/>: its native launcher next
    /// to it when there is one, otherwise the dotnet host running the assembly.
    /// </summary>
    public static ProcessCommand ForAssembly(string assemblyPath)
    {
        string full = Path.GetFullPath(assemblyPath);
        string apphost = Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + (OperatingSystem.IsWindows() ? ".exe" : ""));
        if (File.Exists(apphost) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(apphost) & UnixFileMode.UserExecute) != 0))
            return new ProcessCommand(apphost, []);
        string? host = Environment.ProcessPath is string p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return new ProcessCommand(host ?? "dotnet", [full]);
    }

    /// <summary>The command line as one POSIX shell string (every word single-quoted).</summary>
    public string ShellWords(IEnumerable<string> args) => string.Join(" ", new[] { FileName }.Concat(PrefixArgs).Concat(args).Select(Quote));

    /// <summary>Single-quotes a word for a POSIX shell.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
