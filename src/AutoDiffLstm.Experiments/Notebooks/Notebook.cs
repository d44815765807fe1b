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

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? undo = undo;
        public void Dispose() { undo?.Invoke(); undo = null; }
    }
}
