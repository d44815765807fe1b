using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Ipynb;

namespace AutoDiffLstm.Notebooks.Running;

/// <summary>
/// The globals object of every cell: what the .NET Interactive C# kernel offers as globals and notebooks here rely on,
/// which is <c>display</c>. Public because the compiled cells are another assembly.
/// </summary>
public sealed class NotebookGlobals
{
    internal CellOutputSink? Sink { get; set; }

    /// <summary>
    /// Adds a display_data output to the running cell: text, HTML or a PNG as <see cref="DisplayFormatter"/> decides
    /// (a <see cref="AutoDiffLstm.Experiments.Figures.LineFigure"/> shows as its image). Named as the kernel's global.
    /// </summary>
    // ReSharper disable once InconsistentNaming
    public void display(object? value, params string[] mimeTypes)
    {
        var sink = Sink ?? throw new InvalidOperationException("display: called when no notebook cell is running (from a task that outlived its cell?).");
        sink.Add(new DisplayOutput(DisplayFormatter.Format(value, mimeTypes)));
    }
}
