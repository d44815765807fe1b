namespace AutoDiffLstm.Experiments.Notebooks;

/// <summary>How large a notebook's experiments should be.</summary>
public enum NotebookScale
{
    /// <summary>The sizes a researcher wants to look at (the default).</summary>
    Full,
    /// <summary>Reduced sizes, so that tests can run every notebook in seconds.</summary>
    Ci,
}

/// <summary>
/// Helpers that notebooks call, identical in the <c>.ipynb</c> (run by the kernel or by the AutoDiffLstm.Notebooks runner)
/// and in its file-based twin (<c>dotnet run notebooks/NN-name.cs</c>): they live here, in the library both reference,
/// rather than in the runner, so the twin compiles without it.
/// </summary>
public static partial class Notebook
{
    /// <summary>The environment variable that selects the scale: unset, <c>full</c> or <c>ci</c> (case-insensitive).</summary>
    public const string ScaleVariable = "AUTODIFFLSTM_NOTEBOOK_SCALE";

    // A runner hosting several notebooks in one process (the tests) sets the scale per run; an AsyncLocal keeps concurrent
    // runs from seeing each other's choice, which a process-wide environment variable could not.
    private static readonly AsyncLocal<NotebookScale?> scaleOverride = new();

    /// <summary>The scale in force: the runner's override if one is active, otherwise <see cref="ScaleVariable"/>.</summary>
    /// <exception cref="InvalidOperationException">The environment variable holds something other than <c>full</c> or <c>ci</c>.</exception>
    public static NotebookScale CurrentScale => scaleOverride.Value ?? ParseScale(Environment.GetEnvironmentVariable(ScaleVariable));

    /// <summary>
    /// Picks a size by scale: <c>var steps = Notebook.Scale(full: 1000, ci: 50);</c> gives 1000 normally and 50 when the
    /// notebook runs at CI scale.
    /// </summary>
    public static T Scale<T>(T full, T ci) => CurrentScale == NotebookScale.Ci ? ci : full;

    /// <summary>
    /// Makes <paramref name="scale"/> the <see cref="CurrentScale"/> of the calling asynchronous flow until the returned
    /// object is disposed (the runner's <c>--scale</c>).
    /// </summary>
    public static IDisposable OverrideScale(NotebookScale scale)
    {
        var previous = scaleOverride.Value;
        scaleOverride.Value = scale;
        return new Restore(() => scaleOverride.Value = previous);
    }

    /// <summary>Reads a scale name as written in <see cref="ScaleVariable"/> or on the command line; null or empty means full.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static NotebookScale ParseScale(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "full" => NotebookScale.Full,
        "ci" => NotebookScale.Ci,
        _ => throw new ArgumentException($"Notebook scale '{text}' is not known (from {ScaleVariable} or --scale): expected 'full' or 'ci'."),
    };

    /// <summary>
    /// The full path of <paramref name="relativePath"/> (written with '/') in the clone the notebook runs from: the first
    /// folder holding AutoDiffLstm.sln in or above <paramref name="from"/>, by default the current directory (the kernel
    /// starts in the notebook's folder, a twin wherever <c>dotnet run</c> was called), so a notebook can read recorded
    /// results without knowing where the clone is.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No AutoDiffLstm.sln in or above the folder.</exception>
    /// <exception cref="FileNotFoundException">The repository has no such file.</exception>
    public static string RepositoryFile(string relativePath, string? from = null)
    {
        string start = Path.GetFullPath(from ?? Directory.GetCurrentDirectory());
        var root = new DirectoryInfo(start);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AutoDiffLstm.sln"))) root = root.Parent;
        if (root is null)
            throw new DirectoryNotFoundException($"Notebook.RepositoryFile(\"{relativePath}\"): no AutoDiffLstm.sln in or above {start}; run the notebook from a clone of the repository.");
        string path = Path.GetFullPath(Path.Combine([root.FullName, .. relativePath.Split('/')]));
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"Notebook.RepositoryFile(\"{relativePath}\"): {path} does not exist in the clone at {root.FullName}.", path);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? undo = undo;
        public void Dispose() { undo?.Invoke(); undo = null; }
    }
}
