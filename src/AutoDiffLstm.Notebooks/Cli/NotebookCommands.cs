using AutoDiffLstm.Notebooks.Cells;
using AutoDiffLstm.Notebooks.Ipynb;
using AutoDiffLstm.Notebooks.Twins;

namespace AutoDiffLstm.Notebooks.Cli;

/// <summary>
/// What the console commands do, apart from parsing arguments; each returns the process exit code (0 = success). Running
/// notebooks is the .NET Interactive kernel's job (jupyter nbconvert --execute, see notebooks/README.md); this tool keeps
/// the file-based twins, which the kernel knows nothing about, in step with the notebooks.
/// </summary>
public static class NotebookCommands
{
    /// <summary>Writes the twin of one notebook, or with <paramref name="check"/> only compares it; 1 when out of sync.</summary>
    public static int Twin(string notebookPath, bool check, TextWriter log, TwinOptions? options = null)
    {
        try
        {
            if (!check)
            {
                log.WriteLine($"wrote {TwinGenerator.Write(notebookPath, options)}");
                return 0;
            }
            var result = TwinGenerator.Check(notebookPath, options);
            log.WriteLine(result);
            return result.State == TwinState.InSync ? 0 : 1;
        }
        catch (Exception e) when (e is TwinException or NotebookMagicException or NotebookFormatException or IOException)
        {
            log.WriteLine(e is NotebookFormatException ? e.Message : $"{notebookPath}: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// <see cref="Twin"/> for every notebook of <paramref name="folder"/>; with <paramref name="check"/> a .cs file without
    /// a notebook also fails (a twin whose notebook was deleted or renamed).
    /// </summary>
    public static int TwinAll(string folder, bool check, TextWriter log, TwinOptions? options = null)
    {
        if (!Directory.Exists(folder)) { log.WriteLine($"{folder}: no such folder"); return 1; }
        var notebooks = Notebooks(folder);
        int failures = notebooks.Count(path => Twin(path, check, log, options) != 0);
        if (check)
            foreach (var orphan in OrphanTwins(folder))
            {
                log.WriteLine($"{orphan}: a twin without a notebook; delete it or restore {Path.ChangeExtension(orphan, ".ipynb")}");
                failures++;
            }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>The .cs files of <paramref name="folder"/> without a notebook of the same name.</summary>
    public static IReadOnlyList<string> OrphanTwins(string folder) =>
        Directory.GetFiles(folder, "*.cs").Where(cs => !File.Exists(Path.ChangeExtension(cs, ".ipynb"))).Order(StringComparer.Ordinal).ToArray();

    private static string[] Notebooks(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*.ipynb").Order(StringComparer.Ordinal).ToArray() : [];
}
