using System.Reflection;
using AutoDiffLstm.Experiments.Notebooks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace AutoDiffLstm.Notebooks.Cells;

/// <summary>
/// The compilation environment in which the twin generator compiles notebook cells (to ask the compiler whether a cell's
/// trailing expression has a value): references, default imports and options.
/// </summary>
public static class ScriptEnvironment
{
    /// <summary>
    /// Namespaces every cell sees without a <c>using</c>: the C# kernel's defaults plus the engine. The twin writes the same
    /// list as using directives, so code that compiles in one compiles in the other.
    /// </summary>
    public static IReadOnlyList<string> DefaultImports { get; } =
        ["System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks", "AutoDiffLstm"];

    /// <summary>
    /// The assemblies cells may use beyond the framework: the engine and the experiments library as built next to this
    /// tool (the project references put them there; the kernel gets the same code from the packages), and what the
    /// experiments library exposes (ScottPlot).
    /// </summary>
    public static IReadOnlyList<Assembly> LibraryAssemblies { get; } =
        [typeof(Tensor).Assembly, typeof(Notebook).Assembly, typeof(ScottPlot.Plot).Assembly];

    private static readonly Lazy<ScriptOptions> options = new(Create);

    /// <summary>Options for every submission: references, imports, latest C#, optimised code (cells often run loops).</summary>
    public static ScriptOptions Options => options.Value;

    /// <summary>
    /// <see cref="Options"/> for the cell at <paramref name="cellIndex"/>: named "cell N" so that stack traces of exceptions
    /// thrown by cell code say where (<c>in cell 3:line 2</c>).
    /// </summary>
    public static ScriptOptions ForCell(int cellIndex) => Options.WithFilePath($"cell {cellIndex}");

    private static ScriptOptions Create()
    {
        var references = FrameworkAssemblyPaths().Concat(LibraryAssemblies.Select(a => a.Location))
            .Distinct(StringComparer.Ordinal)
            .Select(path => MetadataReference.CreateFromFile(path));
        return ScriptOptions.Default
            .AddReferences(references)
            .WithImports(DefaultImports)
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithEmitDebugInformation(true)
            .WithFileEncoding(System.Text.Encoding.UTF8); // debug information needs to know the encoding of the source
    }

    /// <summary>
    /// Every assembly of the shared framework this process runs on. Roslyn's default script references are only a handful
    /// (no System.Linq, for one); the kernel, like a project, sees the whole framework.
    /// </summary>
    private static IEnumerable<string> FrameworkAssemblyPaths()
    {
        string frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var trusted = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string)?.Split(Path.PathSeparator) ?? [];
        return trusted.Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                                     && string.Equals(Path.GetDirectoryName(path), frameworkDir, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
    }
}
