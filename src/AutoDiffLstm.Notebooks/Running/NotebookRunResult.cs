using AutoDiffLstm.Notebooks.Ipynb;

namespace AutoDiffLstm.Notebooks.Running;

/// <summary>How a cell failed.</summary>
public enum CellErrorKind
{
    /// <summary>A kernel other than C#, or a magic line the runner does not support (see <see cref="Cells.CellCode.Prepare"/>).</summary>
    Unsupported,
    /// <summary>The C# does not compile; <see cref="CellFailure.Details"/> lists the diagnostics.</summary>
    Compilation,
    /// <summary>The code threw; <see cref="CellFailure.Details"/> holds the stack trace.</summary>
    Exception,
}

/// <summary>The first cell that failed, which stops the run (as "Run All" stops in the editor).</summary>
/// <param name="CellIndex">Index in <see cref="NotebookDocument.Cells"/> (0-based, markdown cells counted).</param>
/// <param name="CodeCellNumber">1-based position among the code cells.</param>
/// <param name="FirstLine">The cell's first non-blank source line, to find it.</param>
/// <param name="Message">Compiler diagnostics (positions as (line,column) inside the cell), or the exception type and message.</param>
/// <param name="Exception">The exception thrown by the cell, for <see cref="CellErrorKind.Exception"/>.</param>
public sealed record CellFailure(int CellIndex, int CodeCellNumber, string FirstLine, CellErrorKind Kind, string Message,
    IReadOnlyList<string> Details, Exception? Exception = null)
{
    /// <summary>One paragraph naming the cell and the error.</summary>
    public override string ToString()
    {
        string what = Kind switch
        {
            CellErrorKind.Compilation => "does not compile",
            CellErrorKind.Unsupported => "cannot run here",
            _ => "threw",
        };
        return $"cell {CellIndex} (code cell {CodeCellNumber}, starting `{FirstLine}`) {what}:\n{Message}";
    }
}

/// <summary>Per-cell timing.</summary>
/// <param name="CellIndex">Index in <see cref="NotebookDocument.Cells"/>.</param>
public sealed record CellRun(int CellIndex, TimeSpan Elapsed, bool Succeeded);

/// <summary>The outcome of <see cref="NotebookRunner.Run"/>.</summary>
/// <param name="Notebook">A copy of the notebook with fresh outputs and execution counts: up to the failing cell (which
/// holds an error output) when the run failed, every later code cell cleared.</param>
public sealed record NotebookRunResult(NotebookDocument Notebook, IReadOnlyList<CellRun> Cells, CellFailure? Failure, TimeSpan Elapsed)
{
    /// <summary>True when every code cell ran without error.</summary>
    public bool Succeeded => Failure is null;
}
