using AutoDiffLstm.Notebooks.Ipynb;
using Microsoft.DotNet.Interactive.Documents;

namespace AutoDiffLstm.Tests.Notebooks;

/// <summary>A temporary folder for notebooks written by a test, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "adl-notebooks-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}

/// <summary>Locations in the repository and notebooks built for tests.</summary>
internal static class NotebookTestFiles
{
    /// <summary>The repository root: the folder above the test binaries that holds AutoDiffLstm.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string NotebooksFolder => Path.Combine(RepositoryRoot, "notebooks");

    public static string ExperimentsProject =>
        Path.Combine(RepositoryRoot, "src", "AutoDiffLstm.Experiments", "AutoDiffLstm.Experiments.csproj");

    /// <summary>A C# notebook of the given cells; strings starting with "md:" become markdown cells.</summary>
    public static InteractiveDocument Build(params string[] cells)
    {
        var doc = new InteractiveDocument();
        foreach (var cell in cells)
            doc.Add(cell.StartsWith("md:", StringComparison.Ordinal)
                ? new InteractiveDocumentElement(cell[3..], NotebookFile.MarkdownKernel)
                : new InteractiveDocumentElement(cell, NotebookFile.CSharpKernel));
        return doc;
    }

    /// <summary>Writes a notebook built by <see cref="Build"/> as an .ipynb file.</summary>
    public static void Save(this InteractiveDocument doc, string path) => NotebookFile.Save(doc, path);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AutoDiffLstm.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No AutoDiffLstm.sln above {AppContext.BaseDirectory}.");
    }
}
