namespace AutoDiffLstm.Notebooks.Twins;

/// <summary>
/// The globals the twin generator compiles cells against: what the .NET Interactive C# kernel offers as globals and the
/// notebooks rely on, which is <c>display</c>. Cells are only compiled (to ask whether a trailing expression is void),
/// never run, so <c>display</c> has no body to speak of. Public because the compiled cells are another assembly.
/// </summary>
public sealed class TwinScriptGlobals
{
    /// <summary>Stands for the kernel's <c>display</c> (and the twin's <c>Notebook.Display.display</c>) at compile time.</summary>
    /// <exception cref="NotSupportedException">Always: notebooks run in the kernel, twins with <c>dotnet run</c>.</exception>
    // ReSharper disable once InconsistentNaming
    public void display(object? value, params string[] mimeTypes) =>
        throw new NotSupportedException("display: the twin generator only compiles cells; run notebooks in the .NET Interactive kernel and twins with dotnet run.");
}
