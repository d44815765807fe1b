using System.Text.Json;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>
/// Reads and writes <c>.ipynb</c> files with Microsoft.DotNet.Interactive.Documents, the library the .NET Interactive
/// kernel and Polyglot Notebooks themselves use, so that cells get the kernel names the kernel would give them
/// (cell metadata, then the notebook's default kernel).
/// </summary>
public static class NotebookFile
{
    /// <summary>The kernel name of C# cells.</summary>
    public const string CSharpKernel = "csharp";
    /// <summary>The kernel name Documents gives markdown cells.</summary>
    public const string MarkdownKernel = "markdown";
    /// <summary>kernelspec.name of the .NET Interactive C# kernel (what <c>dotnet interactive jupyter install</c> registers).</summary>
    public const string CSharpKernelspecName = ".net-csharp";

    /// <summary>The kernels a notebook here may name: C# (the default) and markdown.</summary>
    public static KernelInfoCollection Kernels()
    {
        var kernels = new KernelInfoCollection
        {
            new KernelInfo(CSharpKernel, "C#", ["c#", "C#"]),
            new KernelInfo(MarkdownKernel, "Markdown", ["md"]),
        };
        kernels.DefaultKernelName = CSharpKernel;
        return kernels;
    }

    /// <summary>Reads the notebook at <paramref name="path"/>.</summary>
    /// <exception cref="NotebookFormatException">The file is not a notebook Documents can read (the message names the file).</exception>
    public static InteractiveDocument Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Notebook.Read(stream, Kernels());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or InvalidCastException)
        {
            throw new NotebookFormatException($"{path}: not a readable .ipynb notebook ({e.Message})", e);
        }
    }

    /// <summary>Writes <paramref name="document"/> as a C# notebook, atomically.</summary>
    public static void Save(InteractiveDocument document, string path)
    {
        // A document read from a file holds its kernel list as parsed JSON, which Documents' writer (1.0.0-beta.26120.1)
        // fails to cast back (InvalidCastException). A copy without it is written; the writer records the kernels anew.
        var copy = new InteractiveDocument(document.Elements.ToList());
        foreach (var (key, value) in document.Metadata)
            if (key is not ("polyglot_notebook" or "kernelInfo")) copy.Metadata[key] = value;
        IO.AtomicFile.WriteAllText(path, Notebook.ToJupyterJson(copy, CSharpKernel));
    }
}

/// <summary>An .ipynb file that cannot be read; the message names the file.</summary>
public sealed class NotebookFormatException(string message, Exception? inner = null) : Exception(message, inner);
