using System.Diagnostics;
using System.Text;

namespace AutoDiffLstm.Benchmarks.TorchSharpSetup;

/// <summary>
/// Makes TorchSharp's native shim loadable on a system whose libstdc++ is older than the one it was linked against.
/// <para>
/// libLibTorchSharp.so (TorchSharp 0.107) was built with GCC 13, whose &lt;iostream&gt; makes every object reference
/// <c>std::ios_base_library_init()</c> at version GLIBCXX_3.4.32. That reference is a link-time marker only (there is
/// no relocation against it), but the dynamic loader still refuses the whole file when the system libstdc++ (GCC 12 on
/// Debian 12) lacks GLIBCXX_3.4.32. libtorch itself needs nothing newer. The fix, applied to the copy of the shim in
/// this program's output directory only (never to the NuGet cache):
/// </para>
/// <list type="number">
/// <item>compile a one-function library that defines the symbol without a version;</item>
/// <item>patchelf: drop the symbol's version requirement and add that library as NEEDED (found via the $ORIGIN runpath);</item>
/// <item>rename the now unused GLIBCXX_3.4.32 requirement in .gnu.version_r to a version the system has, with its hash.</item>
/// </list>
/// Every step is checked before it is done, so running again is a no-op; the shim is edited as a temporary copy that
/// replaces the original by an atomic rename, so an interrupted run leaves the original intact.
/// </summary>
internal static class LibTorchSharpFix
{
    public const string ShimName = "libLibTorchSharp.so";
    public const string MarkerLibraryName = "libadl_ios_base_library_init.so";
    private const string MarkerSymbol = "_ZSt21ios_base_library_initv"; // std::ios_base_library_init()
    private const string LibStdCxx = "libstdc++.so.6";

    // Written from scratch: the symbol only has to exist, because nothing calls it (see the class comment).
    private const string MarkerSource =
        "/* Unversioned std::ios_base_library_init() for TorchSharp's shim on systems older than GCC 13; a no-op. */\n" +
        "void " + MarkerSymbol + "(void) {}\n";

    private static readonly object Gate = new();
    private static bool done;

    /// <summary>Applies the fix where needed to every copy of the shim under this program's directory (idempotent).</summary>
    public static void EnsureApplied(TextWriter? log = null)
    {
        lock (Gate)
        {
            if (done || !OperatingSystem.IsLinux()) return;
            var provided = SystemLibStdCxxVersions(out string libStdCxxPath);
            foreach (string shim in ShimCopies(AppContext.BaseDirectory))
                FixOne(shim, provided, libStdCxxPath, log);
            done = true;
        }
    }

    /// <summary>Copies of the shim a build of this program can load: next to the program, or under runtimes/linux-x64/native.</summary>
    internal static IEnumerable<string> ShimCopies(string baseDirectory)
    {
        foreach (string candidate in new[] { Path.Combine(baseDirectory, ShimName), Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", ShimName) })
            if (File.Exists(candidate)) yield return Path.GetFullPath(candidate);
    }

    private static void FixOne(string shim, IReadOnlySet<string> provided, string libStdCxxPath, TextWriter? log)
    {
        var missing = ElfImage.Load(shim).VersionNeeds().Where(n => n.File == LibStdCxx && !provided.Contains(n.Name)).ToList();
        string directory = Path.GetDirectoryName(shim)!;
        string marker = Path.Combine(directory, MarkerLibraryName);
        if (missing.Count == 0)
        {
            // Already fixed (or never needed it). A fixed shim still needs the marker library beside it.
            if (!File.Exists(marker) && ElfImage.Load(shim).NeededLibraries().Contains(MarkerLibraryName))
                CompileMarker(marker, log);
            return;
        }
        if (missing.Any(n => !n.Name.StartsWith("GLIBCXX_3.4.3", StringComparison.Ordinal) || n.Name.Length != "GLIBCXX_3.4.30".Length))
            throw new InvalidOperationException(
                $"TorchSharp set-up: {shim} requires {string.Join(", ", missing.Select(m => m.Name))} of {LibStdCxx}, which {libStdCxxPath} lacks; " +
                "only the GCC 13 marker version GLIBCXX_3.4.3x can be patched away. Install a newer libstdc++.");
        RefuseNuGetCache(shim);
        // GCC 12's newest version; any same-length GLIBCXX_3.4.xx the system defines would do, as no symbol uses it any more.
        string replacement = provided.Contains("GLIBCXX_3.4.30") ? "GLIBCXX_3.4.30"
            : provided.Where(v => v.Length == "GLIBCXX_3.4.30".Length && v.StartsWith("GLIBCXX_3.4.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault()
              ?? throw new InvalidOperationException($"TorchSharp set-up: {libStdCxxPath} defines no GLIBCXX_3.4.xx version to stand in for {missing[0].Name}.");

        log?.WriteLine($"TorchSharp set-up: patching {shim} ({string.Join(", ", missing.Select(m => m.Name))} missing from {libStdCxxPath}).");
        EnsureTool("patchelf", "patchelf");
        EnsureTool("cc", "gcc");
        CompileMarker(marker, log);

        string work = shim + ".patching-" + Environment.ProcessId;
        File.Copy(shim, work, overwrite: true);   // a new inode: the original (possibly a hard link into a cache) is never written
        try
        {
            Run("patchelf", "--clear-symbol-version", MarkerSymbol, work);
            if (!ElfImage.Load(work).NeededLibraries().Contains(MarkerLibraryName))
                Run("patchelf", "--add-needed", MarkerLibraryName, work);
            string runpath = Run("patchelf", "--print-rpath", work).Trim();
            if (!runpath.Split(':').Any(p => p is "$ORIGIN" or "$ORIGIN/"))
                Run("patchelf", "--add-rpath", "$ORIGIN", work);

            var image = ElfImage.Load(work);
            foreach (var need in image.VersionNeeds().Where(n => n.File == LibStdCxx && !provided.Contains(n.Name)))
                image.RenameVersionNeed(need, replacement);
            image.Save(work);

            var left = ElfImage.Load(work).VersionNeeds().Where(n => n.File == LibStdCxx && !provided.Contains(n.Name)).Select(n => n.Name).ToList();
            if (left.Count > 0)
                throw new InvalidOperationException($"TorchSharp set-up: after patching, {work} still requires {string.Join(", ", left)}.");
            File.Move(work, shim, overwrite: true);
            log?.WriteLine($"TorchSharp set-up: {Path.GetFileName(shim)} now needs {MarkerLibraryName} and {replacement} instead of {string.Join(", ", missing.Select(m => m.Name))}.");
        }
        finally
        {
            if (File.Exists(work)) File.Delete(work);
        }
    }

    /// <summary>The version names of the libstdc++ this process runs with (the .NET runtime itself loads it).</summary>
    private static IReadOnlySet<string> SystemLibStdCxxVersions(out string path)
    {
        path = File.ReadLines("/proc/self/maps")
                   .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                   .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]).StartsWith(LibStdCxx, StringComparison.Ordinal))
                   .Select(fields => fields[5]).FirstOrDefault()
               ?? new[] { "/usr/lib/x86_64-linux-gnu/" + LibStdCxx, "/lib64/" + LibStdCxx, "/usr/lib64/" + LibStdCxx }.FirstOrDefault(File.Exists)
               ?? throw new InvalidOperationException($"TorchSharp set-up: cannot find the system {LibStdCxx} (not mapped in this process, not in the usual directories).");
        return ElfImage.Load(path).VersionDefinitions();
    }

    private static void CompileMarker(string marker, TextWriter? log)
    {
        if (File.Exists(marker)) return;
        EnsureTool("cc", "gcc");
        string scratch = Directory.CreateTempSubdirectory("adl-torchsharp-").FullName;
        try
        {
            string source = Path.Combine(scratch, "marker.c"), output = Path.Combine(scratch, MarkerLibraryName);
            File.WriteAllText(source, MarkerSource);
            Run("cc", "-shared", "-fPIC", "-O2", "-Wl,-soname," + MarkerLibraryName, "-o", output, source);
            string temp = marker + ".tmp-" + Environment.ProcessId;
            File.Copy(output, temp, overwrite: true);
            File.Move(temp, marker, overwrite: true);
            log?.WriteLine($"TorchSharp set-up: compiled {marker}.");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The shim in a package cache is shared by every project on the machine: never edit it.</summary>
    private static void RefuseNuGetCache(string shim)
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var caches = new[] { Environment.GetEnvironmentVariable("NUGET_PACKAGES"), Path.Combine(home, ".nuget", "packages"), "/opt/nuget/packages" }
            .Where(c => !string.IsNullOrEmpty(c)).Select(c => Path.GetFullPath(c!).TrimEnd('/') + "/");
        if (caches.Any(c => shim.StartsWith(c, StringComparison.Ordinal)))
            throw new InvalidOperationException($"TorchSharp set-up: refusing to patch {shim}, which lies in a NuGet package cache; run the benchmark from its build output.");
    }

    /// <summary>Installs a missing Debian package when running as root (as on the project's machines), else explains.</summary>
    private static void EnsureTool(string tool, string debianPackage)
    {
        if (OnPath(tool)) return;
        if (Environment.UserName != "root" || !OnPath("apt-get"))
            throw new InvalidOperationException($"TorchSharp set-up: '{tool}' is needed to patch TorchSharp's shim; install it (Debian package '{debianPackage}').");
        try { Run("apt-get", "install", "-y", "-q", debianPackage); }
        catch (InvalidOperationException)
        {
            Run("apt-get", "update", "-q");   // a fresh machine has no package lists yet
            Run("apt-get", "install", "-y", "-q", debianPackage);
        }
        if (!OnPath(tool)) throw new InvalidOperationException($"TorchSharp set-up: installed '{debianPackage}' but '{tool}' is still not on PATH.");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, tool)));

    private static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"TorchSharp set-up: could not start {file}.");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"TorchSharp set-up: '{file} {string.Join(' ', args)}' exited with {process.ExitCode}: {stderr.ToString().Trim()}");
        return stdout;
    }
}
