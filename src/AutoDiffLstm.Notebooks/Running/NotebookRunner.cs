using System.Diagnostics;
using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Cells;
using AutoDiffLstm.Notebooks.Ipynb;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace AutoDiffLstm.Notebooks.Running;

/// <summary>Settings of one run.</summary>
public sealed record NotebookRunOptions
{
    /// <summary>The scale <see cref="Notebook.Scale{T}"/> answers with during the run; null leaves it to the environment variable.</summary>
    public NotebookScale? Scale { get; init; }

    /// <summary>Called after each code cell (for progress output).</summary>
    public Action<CellRun>? OnCellFinished { get; init; }
}

/// <summary>
/// Runs a notebook's C# code cells in order with shared state, as the .NET Interactive kernel does: the first cell with
/// <see cref="CSharpScript.RunAsync(string, ScriptOptions?, object?, Type?, CancellationToken)"/>, each later one with
/// <see cref="ScriptState.ContinueWithAsync(string, ScriptOptions?, CancellationToken)"/>, so variables, methods and types of
/// earlier cells are visible. Console output becomes stream outputs, <c>display(...)</c> display outputs, a trailing
/// expression an execute_result; the first failing cell stops the run and is reported.
/// </summary>
/// <remarks>
/// One runner can run many notebooks (tests share one: the first compilation pays Roslyn's start-up). Every run happens on
/// its own thread, because the engine's tape and gradient mode are per thread: a forward pass in one cell and backward in
/// the next must see the same tape, and a fresh thread starts each notebook with an empty one.
/// </remarks>
public sealed class NotebookRunner
{
    /// <summary>Runs the code cells of <paramref name="notebook"/> (which is not modified) and returns a copy with fresh outputs.</summary>
    public NotebookRunResult Run(NotebookDocument notebook, NotebookRunOptions? options = null)
    {
        options ??= new NotebookRunOptions();
        NotebookRunResult? result = null;
        Exception? crash = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var scale = options.Scale is { } s ? Notebook.OverrideScale(s) : null;
                result = RunOnThisThread(notebook.Clone(), options);
            }
            catch (Exception e) { crash = e; }
        }, maxStackSize: 64 << 20) // cells may recurse deeply; backward itself is a loop
        {
            Name = "notebook runner",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        if (crash is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(crash).Throw();
        return result!;
    }

    private static NotebookRunResult RunOnThisThread(NotebookDocument doc, NotebookRunOptions options)
    {
        var total = Stopwatch.StartNew();
        var globals = new NotebookGlobals();
        var runs = new List<CellRun>();
        ScriptState<object>? state = null;
        CellFailure? failure = null;
        int executionCount = 0, codeCellNumber = 0;

        for (int index = 0; index < doc.Cells.Count; index++)
        {
            var cell = doc.Cells[index];
            if (cell.Type != CellType.Code) continue;
            codeCellNumber++;
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
            if (failure is not null) continue; // cells after the failure keep no stale outputs
            string kernel = PolyglotMetadata.CellKernel(cell.Metadata, doc.DefaultKernel);
            if (kernel != PolyglotMetadata.CSharpKernel)
            {
                failure = new CellFailure(index, codeCellNumber, cell.FirstLine, CellErrorKind.Unsupported,
                    $"the cell is for kernel '{kernel}'; only C# cells can run", []);
                cell.Outputs.Add(new ErrorOutput("Unsupported kernel", failure.Message, []));
                continue;
            }

            CellCode code;
            try { code = CellCode.Prepare(cell.Source, index); }
            catch (NotebookMagicException e)
            {
                failure = new CellFailure(index, codeCellNumber, cell.FirstLine, CellErrorKind.Unsupported, e.Message, []);
                cell.Outputs.Add(new ErrorOutput("Unsupported magic", e.Message, []));
                continue;
            }
            if (code.Kind == CellCodeKind.Markdown || code.IsBlank) continue;

            var watch = Stopwatch.StartNew();
            var sink = new CellOutputSink();
            globals.Sink = sink;
            int count = ++executionCount;
            cell.ExecutionCount = count;
            try
            {
                using (ConsoleCapture.Begin(sink))
                {
                    state = state is null
                        ? CSharpScript.RunAsync(code.Code, ScriptEnvironment.ForCell(index), globals, typeof(NotebookGlobals)).GetAwaiter().GetResult()
                        : state.ContinueWithAsync(code.Code, ScriptEnvironment.ForCell(index)).GetAwaiter().GetResult();
                }
                if (TrailingExpression.Find(TrailingExpression.Parse(code.Code)) is not null && !TrailingExpression.IsVoid(state.Script.GetCompilation()))
                    sink.Add(new DisplayOutput(DisplayFormatter.Format(state.ReturnValue), count));
            }
            catch (CompilationErrorException e)
            {
                var diagnostics = e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(Describe).ToArray();
                failure = new CellFailure(index, codeCellNumber, cell.FirstLine, CellErrorKind.Compilation, string.Join('\n', diagnostics), diagnostics);
                sink.Add(new ErrorOutput("Compilation error", failure.Message, diagnostics));
            }
            catch (Exception e)
            {
                var trace = e.ToString().Replace("\r\n", "\n").Split('\n');
                failure = new CellFailure(index, codeCellNumber, cell.FirstLine, CellErrorKind.Exception, $"{e.GetType().FullName}: {e.Message}", trace, e);
                sink.Add(new ErrorOutput(e.GetType().FullName ?? e.GetType().Name, e.Message, trace));
            }
            finally
            {
                globals.Sink = null;
            }
            cell.Outputs.AddRange(sink.Complete());
            var run = new CellRun(index, watch.Elapsed, failure is null);
            runs.Add(run);
            options.OnCellFinished?.Invoke(run);
        }
        return new NotebookRunResult(doc, runs, failure, total.Elapsed);
    }

    /// <summary>"(line,column): error CSxxxx: message" with positions inside the cell (1-based, as editors show them).</summary>
    private static string Describe(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        string position = d.Location.IsInSource ? $"({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): " : "";
        return $"{position}error {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
