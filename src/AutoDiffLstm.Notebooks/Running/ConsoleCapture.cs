using System.Text;

namespace AutoDiffLstm.Notebooks.Running;

/// <summary>
/// Routes <see cref="Console.Out"/> and <see cref="Console.Error"/> to the cell being run. The console writers are
/// replaced once by writers that look up the current sink in an <see cref="AsyncLocal{T}"/>: writes from the cell (and
/// from tasks it starts) reach that cell's sink, while everything else in the process, including other notebooks run
/// concurrently, still reaches the original console.
/// </summary>
internal static class ConsoleCapture
{
    private static readonly AsyncLocal<CellOutputSink?> current = new();
    private static readonly object gate = new();
    private static TextWriter? installedOut, installedError;

    /// <summary>Sends this flow's console output to <paramref name="sink"/> until disposed.</summary>
    public static IDisposable Begin(CellOutputSink sink)
    {
        EnsureInstalled();
        var previous = current.Value;
        current.Value = sink;
        return new Scope(() => current.Value = previous);
    }

    private static void EnsureInstalled()
    {
        lock (gate)
        {
            // Console.SetOut wraps the writer, so compare with what Console.Out returned right after installing; if someone
            // replaced it since, route on top of their writer.
            if (!ReferenceEquals(Console.Out, installedOut))
            {
                Console.SetOut(new RoutingWriter("stdout", Console.Out));
                installedOut = Console.Out;
            }
            if (!ReferenceEquals(Console.Error, installedError))
            {
                Console.SetError(new RoutingWriter("stderr", Console.Error));
                installedError = Console.Error;
            }
        }
    }

    private sealed class RoutingWriter(string stream, TextWriter fallback) : TextWriter
    {
        public override Encoding Encoding => fallback.Encoding;

        public override void Write(char value)
        {
            if (current.Value is { } sink) sink.Write(stream, value.ToString());
            else fallback.Write(value);
        }

        public override void Write(string? value)
        {
            if (current.Value is { } sink) sink.Write(stream, value);
            else fallback.Write(value);
        }

        public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

        public override void WriteLine(string? value) => Write(value + new string(CoreNewLine));

        public override void Flush()
        {
            if (current.Value is null) fallback.Flush();
        }
    }

    private sealed class Scope(Action undo) : IDisposable
    {
        private Action? undo = undo;
        public void Dispose() { undo?.Invoke(); undo = null; }
    }
}
