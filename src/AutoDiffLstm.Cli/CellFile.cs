using System.Reflection;
using System.Runtime.Loader;
using AutoDiffLstm.Recurrent;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AutoDiffLstm.Cli;

/// <summary>
/// <c>--cell-file mycell.cs</c>: compiles a researcher's C# file at run time (Roslyn) and runs its registration, so that
/// its cells join <see cref="CellRegistry"/> and every command that takes <c>--cell</c> can use them.
/// </summary>
/// <remarks>
/// The contract: the file declares a public class with a method <c>public static void Register()</c> that calls
/// <see cref="CellRegistry.Register"/> at least once. The file compiles against the toolkit and the .NET libraries with
/// the usings System, System.Collections.Generic, System.Linq, AutoDiffLstm and AutoDiffLstm.Recurrent implied. A file
/// already loaded (same path and contents) is not loaded again.
/// </remarks>
internal static class CellFile
{
    private const string RegisterMethod = "Register";
    private static readonly HashSet<string> Loaded = [];
    private static readonly object Gate = new();

    private const string ImpliedUsings =
        "global using System; global using System.Collections.Generic; global using System.Linq; global using AutoDiffLstm; global using AutoDiffLstm.Recurrent;";

    /// <summary>Compiles <paramref name="path"/>, loads it and calls its Register methods; returns the names of the cells it added.</summary>
    /// <exception cref="ArgumentException">Compile errors (file:line:column: error CSxxxx: message), no Register method, nothing registered, or an error inside Register.</exception>
    public static IReadOnlyList<string> Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"--cell-file: '{path}' does not exist.", full);
        string source = File.ReadAllText(full);
        lock (Gate)
        {
            if (!Loaded.Add(full + "\n" + source)) return [];
            try { return CompileAndRegister(path, full, source); }
            catch { Loaded.Remove(full + "\n" + source); throw; }
        }
    }

    private static List<string> CompileAndRegister(string shown, string full, string source)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("AdlCellFile_" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(source, parse, full), CSharpSyntaxTree.ParseText(ImpliedUsings, parse)],
            References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (!emitted.Success)
            throw new ArgumentException($"--cell-file {shown} does not compile ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):\n"
                + string.Join("\n", errors.Take(20).Select(d => Describe(shown, d))));
        image.Position = 0;
        var assembly = AssemblyLoadContext.Default.LoadFromStream(image);
        var registers = assembly.GetExportedTypes()
            .Select(t => t.GetMethod(RegisterMethod, BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes))
            .Where(m => m is not null && m.ReturnType == typeof(void)).ToList();
        if (registers.Count == 0)
            throw new ArgumentException($"--cell-file {shown}: no registration found. Declare a public class with 'public static void Register()' that calls "
                + "CellRegistry.Register(\"mycell\", \"description\", (i, h, rng, _) => ..., (i, h, rng, _) => ...).");
        var before = CellRegistry.Names.ToHashSet();
        foreach (var method in registers)
        {
            try { method!.Invoke(null, null); }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw new ArgumentException($"--cell-file {shown}: {method!.DeclaringType!.Name}.{RegisterMethod} failed: {e.InnerException.Message}", e.InnerException);
            }
        }
        var added = CellRegistry.Names.Where(n => !before.Contains(n)).ToList();
        if (added.Count == 0)
            throw new ArgumentException($"--cell-file {shown}: {RegisterMethod}() ran but registered no cell; it must call CellRegistry.Register.");
        return added;
    }

    /// <summary>"file:line:column: error CS1002: ; expected" (1-based, as editors count).</summary>
    private static string Describe(string shown, Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        string where = d.Location.IsInSource && span.Path.Length > 0 ? $"{shown}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}" : shown;
        return $"{where}: error {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>The .NET libraries and every loaded assembly with a file (the toolkit among them), one per simple name.</summary>
    private static List<MetadataReference> References()
    {
        _ = typeof(CellRegistry).Assembly; // the toolkit is loaded before the list is taken
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var a in AppDomain.CurrentDomain.GetAssemblies())
            if (!a.IsDynamic && a.Location.Length > 0) byName.TryAdd(a.GetName().Name!, a.Location);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string platform)
            foreach (var file in platform.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                byName.TryAdd(Path.GetFileNameWithoutExtension(file), file);
        return byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }
}
