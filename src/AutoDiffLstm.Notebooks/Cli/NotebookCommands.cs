using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Cells;
using AutoDiffLstm.Notebooks.Ipynb;
using AutoDiffLstm.Notebooks.Running;
using AutoDiffLstm.Notebooks.Twins;

namespace AutoDiffLstm.Notebooks.Cli;

/// <summary>What the console commands do, apart from parsing arguments; each returns the process exit code (0 = success).</summary>
public static class NotebookCommands
{
    /// <summary>Runs one notebook; with <paramref name="writeOutputs"/> and success, saves it with the fresh outputs.</summary>
    public static int Run(string notebookPath, bool writeOutputs, NotebookScale? scale, TextWriter log, NotebookRunner? runner = null)
    {
        runner ??= new NotebookRunner();
        if (!TryLoad(notebookPath, log, out var notebook)) return 1;
        int codeCells = notebook.Cells.Count(c => c.Type == CellType.Code);
        log.WriteLine($"{notebookPath}: {codeCells} code cells, scale {(scale ?? Notebook.CurrentScale).ToString().ToLowerInvariant()}");
        var result = runner.Run(notebook, new NotebookRunOptions
        {
            Scale = scale,
            OnCellFinished = c => log.WriteLine($"  cell {c.CellIndex,3} {(c.Succeeded ? "ok    " : "FAILED")} {c.Elapsed.TotalSeconds,6:F2} s"),
        });
        if (!result.Succeeded)
        {
            log.WriteLine($"FAILED: {result.Failure}");
            if (writeOutputs) log.WriteLine($"{notebookPath} left unchanged (outputs are written only after a successful run).");
            return 1;
        }
        if (writeOutputs)
        {
            result.Notebook.Save(notebookPath);
            log.WriteLine($"ok in {result.Elapsed.TotalSeconds:F1} s; outputs written to {notebookPath}");
        }
        else log.WriteLine($"ok in {result.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>Runs every notebook of <paramref name="folder"/> in name order, going on after a failure; 1 if any failed.</summary>
    public static int RunAll(string folder, bool writeOutputs, NotebookScale? scale, TextWriter log)
    {
        var runner = new NotebookRunner();
        var notebooks = Notebooks(folder);
        if (notebooks.Length == 0) { log.WriteLine($"no .ipynb files in {folder}"); return 1; }
        var failed = notebooks.Where(path => Run(path, writeOutputs, scale, log, runner) != 0).ToList();
        log.WriteLine(failed.Count == 0 ? $"{notebooks.Length} notebooks ran" : $"{failed.Count} of {notebooks.Length} notebooks failed: {string.Join(", ", failed)}");
        return failed.Count == 0 ? 0 : 1;
    }

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

    private static bool TryLoad(string path, TextWriter log, out NotebookDocument notebook)
    {
        notebook = null!;
        try
        {
            notebook = NotebookDocument.Load(path);
            return true;
        }
        catch (Exception e) when (e is NotebookFormatException or IOException or UnauthorizedAccessException)
        {
            log.WriteLine(e is NotebookFormatException ? e.Message : $"{path}: {e.Message}");
            return false;
        }
    }
}
