using System.Text;
using AutoDiffLstm.Notebooks.Cells;
using AutoDiffLstm.Notebooks.Ipynb;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Text;

namespace AutoDiffLstm.Notebooks.Twins;

/// <summary>Settings of twin generation.</summary>
public sealed record TwinOptions
{
    /// <summary>
    /// The AutoDiffLstm.Experiments project the twin references with <c>#:project</c>; null finds it from the repository
    /// that holds the notebook (the folder with AutoDiffLstm.sln above it). Written relative to the twin.
    /// </summary>
    public string? ExperimentsProject { get; init; }
}

/// <summary>
/// Writes the file-based C# twin of a notebook (<c>notebooks/NN-name.cs</c> next to <c>notebooks/NN-name.ipynb</c>), so that
/// the notebook's code also runs as <c>dotnet run notebooks/NN-name.cs</c> without the (deprecated) notebook tooling.
/// </summary>
/// <remarks>
/// The twin is one top-level program, so the generator makes the few changes C# requires there and nothing else:
/// <list type="bullet">
/// <item>a header with the <c>#:project</c> directive, <c>#:property Optimize=true</c> (with notebooks/Directory.Build.targets,
/// which builds the referenced projects in Release when the twin is optimised, so <c>dotnet run</c> runs optimised code),
/// the kernel's default imports as using directives, and
/// <c>using static AutoDiffLstm.Experiments.Notebooks.Notebook.Display;</c> for <c>display</c>;</item>
/// <item>markdown cells (and <c>#!markdown</c> code cells) become <c>//</c> comments, each cell under a marker line naming its index;</item>
/// <item>magic lines and the package-loader cell are dropped (see <see cref="CellCode.Prepare"/>);</item>
/// <item>using directives move to the header (C# wants them before any statement);</item>
/// <item>type declarations move to the end (C# wants them after the top-level statements);</item>
/// <item>a trailing expression without semicolon, which the kernel shows as the cell's result, becomes <c>display(expr);</c>
/// (or just gains its semicolon when it is void, which the compiler is asked about).</item>
/// </list>
/// Notebook code the twin cannot express is rejected with a <see cref="TwinException"/> naming the cell: a top-level
/// variable or method declared again in a later cell (legal in the kernel, a duplicate local in one program), and
/// top-level properties, or fields and methods with access or static modifiers.
/// </remarks>
public static class TwinGenerator
{
    private const string ExperimentsProjectRelative = "src/AutoDiffLstm.Experiments/AutoDiffLstm.Experiments.csproj";
    private const string DisplayImport = "using static AutoDiffLstm.Experiments.Notebooks.Notebook.Display;";

    /// <summary>The twin's path: the notebook's with the extension .cs.</summary>
    public static string TwinPath(string notebookPath) => Path.ChangeExtension(notebookPath, ".cs");

    /// <summary>The twin's text for the notebook at <paramref name="notebookPath"/>.</summary>
    /// <exception cref="TwinException">The notebook holds code a single top-level program cannot express.</exception>
    public static string Generate(string notebookPath, TwinOptions? options = null) =>
        Generate(NotebookFile.Load(notebookPath), notebookPath, options);

    /// <summary>The twin's text for <paramref name="notebook"/>, whose file is (or will be) <paramref name="notebookPath"/>.</summary>
    public static string Generate(InteractiveDocument notebook, string notebookPath, TwinOptions? options = null)
    {
        string twinDir = Path.GetDirectoryName(Path.GetFullPath(TwinPath(notebookPath)))!;
        string project = options?.ExperimentsProject ?? FindExperimentsProject(twinDir);
        string projectRelative = Path.GetRelativePath(twinDir, Path.GetFullPath(project)).Replace('\\', '/');

        var usings = new List<string>(ScriptEnvironment.DefaultImports.Select(n => $"using {n};"));
        var body = new StringBuilder();
        var types = new StringBuilder();
        var declared = new Dictionary<string, int>(StringComparer.Ordinal);
        Script<object>? script = null;

        for (int index = 0; index < notebook.Elements.Count; index++)
        {
            var cell = notebook.Elements[index];
            if (cell.KernelName == NotebookFile.MarkdownKernel)
            {
                // Documents also calls a code cell that starts with #!markdown a markdown cell, but keeps that line.
                var prose = CellCode.Prepare(cell.Contents, index);
                bool magic = prose.Kind == CellCodeKind.Markdown;
                body.Append($"// ---- [cell {index}] markdown{(magic ? " (#!markdown code cell)" : "")} ----\n");
                AppendComment(body, magic ? prose.MarkdownText : cell.Contents);
                continue;
            }
            if (cell.KernelName != NotebookFile.CSharpKernel)
                throw new TwinException(index, $"the cell is for kernel '{cell.KernelName}'; a C# twin can only hold C# cells.");
            var code = CellCode.Prepare(cell.Contents, index);
            if (code.Kind == CellCodeKind.PackageLoader)
            {
                body.Append($"// ---- [cell {index}] code: loads the package in the kernel; the twin has #:project instead ----\n");
                continue;
            }
            if (code.Kind == CellCodeKind.Markdown)
            {
                body.Append($"// ---- [cell {index}] markdown (#!markdown code cell) ----\n");
                AppendComment(body, code.MarkdownText);
                continue;
            }
            body.Append($"// ---- [cell {index}] code ----\n");
            if (code.IsBlank) continue;

            script = script is null
                ? CSharpScript.Create(code.Code, ScriptEnvironment.ForCell(index), typeof(TwinScriptGlobals))
                : script.ContinueWith(code.Code, ScriptEnvironment.ForCell(index));
            var unit = TrailingExpression.Parse(code.Code);
            CheckTopLevel(unit, index, declared);

            var changes = new List<TextChange>();
            foreach (var u in unit.Usings)
            {
                string directive = u.WithoutTrivia().ToString();
                if (!usings.Contains(directive, StringComparer.Ordinal)) usings.Add(directive);
                changes.Add(new TextChange(u.FullSpan, ""));
            }
            foreach (var member in unit.Members.Where(m => m is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax))
            {
                types.Append($"// from [cell {index}]\n").Append(Normalize(member.ToFullString()).Trim('\n')).Append("\n\n");
                changes.Add(new TextChange(member.FullSpan, ""));
            }
            if (TrailingExpression.Find(unit) is { } trailing)
            {
                string expression = trailing.Expression.ToString();
                bool isVoid = TrailingExpression.IsVoid(script.GetCompilation());
                changes.Add(new TextChange(trailing.Span, isVoid ? expression + ";" : $"display({expression});"));
            }
            string text = TrimBlankLines(Normalize(SourceText.From(code.Code).WithChanges(changes).ToString()));
            if (text.Length > 0) body.Append(text).Append('\n');
        }

        var twin = new StringBuilder();
        string name = Path.GetFileName(notebookPath);
        twin.Append("// <auto-generated>\n")
            .Append($"// File-based twin of {name}, generated from it by\n")
            .Append($"//   dotnet run --project src/AutoDiffLstm.Notebooks -- twin notebooks/{name}\n")
            .Append("// Edit the notebook, then regenerate: the tests fail when the two differ.\n")
            .Append($"// Run it with: dotnet run notebooks/{Path.GetFileName(TwinPath(notebookPath))}  ({Experiments.Notebooks.Notebook.ScaleVariable}=ci for small sizes)\n")
            .Append("// </auto-generated>\n")
            .Append($"#:project {projectRelative}\n")
            // File-based apps default to PublishAot=true, which adds trimming analysis that a notebook does not need.
            .Append("#:property PublishAot=false\n")
            // `dotnet run file.cs` builds Debug; Optimize makes the twin's own code optimised, and
            // notebooks/Directory.Build.targets then builds the referenced projects in Release.
            .Append("#:property Optimize=true\n");
        foreach (var u in usings) twin.Append(u).Append('\n');
        twin.Append(DisplayImport).Append("\n\n").Append(body);
        if (types.Length > 0)
            twin.Append("\n// ---- types declared in the notebook (C# wants them after the top-level statements) ----\n")
                .Append(types.ToString().TrimEnd('\n')).Append('\n');
        return twin.ToString();
    }

    /// <summary>Generates the twin and writes it atomically next to the notebook; returns its path.</summary>
    public static string Write(string notebookPath, TwinOptions? options = null)
    {
        string path = TwinPath(notebookPath);
        IO.AtomicFile.WriteAllText(path, Generate(notebookPath, options));
        return path;
    }

    /// <summary>Compares the committed twin with what <see cref="Generate(string, TwinOptions?)"/> would write (line endings aside).</summary>
    public static TwinCheck Check(string notebookPath, TwinOptions? options = null)
    {
        string path = TwinPath(notebookPath);
        string expected = Generate(notebookPath, options);
        if (!File.Exists(path)) return new TwinCheck(notebookPath, path, TwinState.Missing, null);
        string actual = Normalize(File.ReadAllText(path));
        if (actual == expected) return new TwinCheck(notebookPath, path, TwinState.InSync, null);
        var a = actual.TrimEnd('\n').Split('\n');
        var e = expected.TrimEnd('\n').Split('\n');
        int line = 0;
        while (line < a.Length && line < e.Length && a[line] == e[line]) line++;
        string detail = $"line {line + 1}: the twin has `{(line < a.Length ? a[line] : "(end of file)")}`, the notebook gives `{(line < e.Length ? e[line] : "(end of file)")}`";
        return new TwinCheck(notebookPath, path, TwinState.Differs, detail);
    }

    private static void CheckTopLevel(CompilationUnitSyntax unit, int cell, Dictionary<string, int> declared)
    {
        void Declare(SyntaxToken identifier)
        {
            string name = identifier.ValueText;
            if (declared.TryGetValue(name, out int first) && first != cell)
                throw new TwinException(cell, $"`{name}` was already declared at the top level of cell {first}; the kernel lets a later cell declare it again, " +
                                              "but the twin is one program where that is a duplicate local. Rename it, or assign without declaring.");
            declared[name] = cell;
        }

        foreach (var member in unit.Members)
        {
            switch (member)
            {
                case FieldDeclarationSyntax field:
                    if (field.Modifiers.Any(m => !m.IsKind(SyntaxKind.ConstKeyword)))
                        throw new TwinException(cell, $"the top-level variable `{field.Declaration.Variables[0].Identifier.ValueText}` has modifiers ({field.Modifiers}); the twin turns it into a local, which can only be const.");
                    foreach (var v in field.Declaration.Variables) Declare(v.Identifier);
                    break;
                case MethodDeclarationSyntax method:
                    if (method.Modifiers.Any(m => m.Kind() is SyntaxKind.PublicKeyword or SyntaxKind.PrivateKeyword or SyntaxKind.ProtectedKeyword or SyntaxKind.InternalKeyword or SyntaxKind.VirtualKeyword or SyntaxKind.OverrideKeyword))
                        throw new TwinException(cell, $"the top-level method `{method.Identifier.ValueText}` has modifiers ({method.Modifiers}); the twin turns it into a local function, which allows only static, async, unsafe and extern.");
                    Declare(method.Identifier);
                    break;
                case BasePropertyDeclarationSyntax or EventFieldDeclarationSyntax:
                    throw new TwinException(cell, $"the top-level member `{member.ToString().Split('\n')[0].Trim()}` is a property or event, which a top-level program cannot declare; use a variable or a method.");
                case GlobalStatementSyntax { Statement: ExpressionStatementSyntax or LocalDeclarationStatementSyntax } statement:
                    // `var (a, b) = ...;` and `out var n` at the top level declare variables of the whole program.
                    foreach (var designation in statement.DescendantNodes(n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
                                 .OfType<SingleVariableDesignationSyntax>())
                        Declare(designation.Identifier);
                    break;
            }
        }
    }

    private static void AppendComment(StringBuilder sb, string text)
    {
        foreach (var line in TrimBlankLines(Normalize(text)).Split('\n'))
            sb.Append(line.Length == 0 ? "//" : "// " + line.TrimEnd()).Append('\n');
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string TrimBlankLines(string text)
    {
        var lines = text.Split('\n').ToList();
        while (lines.Count > 0 && lines[0].Trim().Length == 0) lines.RemoveAt(0);
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        return string.Join('\n', lines);
    }

    private static string FindExperimentsProject(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AutoDiffLstm.sln")))
                return Path.Combine(dir.FullName, ExperimentsProjectRelative);
        throw new TwinException(-1, $"no AutoDiffLstm.sln above {from}, so the AutoDiffLstm.Experiments project to reference is unknown; pass it in TwinOptions.ExperimentsProject.");
    }
}

/// <summary>Whether a committed twin matches its notebook.</summary>
public enum TwinState
{
    /// <summary>Identical to what the generator writes.</summary>
    InSync,
    /// <summary>No .cs file next to the notebook.</summary>
    Missing,
    /// <summary>The file differs: someone edited the notebook or the twin without regenerating.</summary>
    Differs,
}

/// <summary>The result of <see cref="TwinGenerator.Check"/>.</summary>
/// <param name="Detail">For <see cref="TwinState.Differs"/>, the first differing line.</param>
public sealed record TwinCheck(string NotebookPath, string TwinPath, TwinState State, string? Detail)
{
    /// <summary>One line for the console.</summary>
    public override string ToString() => State switch
    {
        TwinState.InSync => $"{TwinPath}: in sync",
        TwinState.Missing => $"{TwinPath}: missing; generate it with `twin {NotebookPath}`",
        _ => $"{TwinPath}: differs from its notebook ({Detail}); regenerate it with `twin {NotebookPath}`",
    };
}

/// <summary>Notebook code that a file-based twin cannot express.</summary>
public sealed class TwinException(int cellIndex, string reason)
    : Exception(cellIndex >= 0 ? $"cell {cellIndex}: {reason}" : reason)
{
    /// <summary>Index of the offending cell, or -1.</summary>
    public int CellIndex { get; } = cellIndex;
}
