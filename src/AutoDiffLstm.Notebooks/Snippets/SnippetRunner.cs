using System.Text;
using AutoDiffLstm.Notebooks.Cells;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace AutoDiffLstm.Notebooks.Snippets;

/// <summary>What running a snippet printed, or why it failed.</summary>
/// <param name="Failure">Null on success; otherwise the compiler diagnostics or the exception.</param>
public sealed record SnippetResult(string Output, string? Failure)
{
    /// <summary>True when the snippet compiled and ran without throwing.</summary>
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Runs a C# snippet that is not a notebook, such as an example in the README, as script code in the environment the
/// twin generator compiles cells in (<see cref="ScriptEnvironment"/>), and returns what it wrote to the console. Notebooks
/// run in the .NET Interactive kernel; the README's examples are checked here, in process, in seconds.
/// </summary>
public static class SnippetRunner
{
    private static readonly AsyncLocal<StringBuilder?> capture = new();
    private static readonly object gate = new();
    private static TextWriter? installedOut;

    /// <summary>Compiles and runs <paramref name="code"/>; console output of this call (and of tasks it starts) is captured.</summary>
    public static SnippetResult Run(string code)
    {
        InstallConsoleRouting();
        var output = new StringBuilder();
        var previous = capture.Value;
        capture.Value = output;
        try
        {
            CSharpScript.RunAsync(code, ScriptEnvironment.ForCell(0)).GetAwaiter().GetResult();
            return new SnippetResult(output.ToString(), null);
        }
        catch (CompilationErrorException e)
        {
            return new SnippetResult(output.ToString(), "does not compile:\n" + string.Join("\n", e.Diagnostics));
        }
        catch (Exception e)
        {
            return new SnippetResult(output.ToString(), e.ToString());
        }
        finally
        {
            capture.Value = previous;
        }
    }

    // Console.Out is replaced once by a writer that sends this flow's writes to its capture and everything else (other
    // tests running at the same time) to the original console.
    private static void InstallConsoleRouting()
    {
        lock (gate)
        {
            if (ReferenceEquals(Console.Out, installedOut)) return;
            Console.SetOut(new RoutingWriter(Console.Out));
            installedOut = Console.Out;
        }
    }

    private sealed class RoutingWriter(TextWriter fallback) : TextWriter
    {
        public override Encoding Encoding => fallback.Encoding;

        public override void Write(char value) => Write(value.ToString());

        public override void Write(string? value)
        {
            if (capture.Value is { } sink) { lock (sink) sink.Append(value); }
            else fallback.Write(value);
        }

        public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

        public override void WriteLine(string? value) => Write(value + new string(CoreNewLine));

        public override void Flush()
        {
            if (capture.Value is null) fallback.Flush();
        }
    }
}
