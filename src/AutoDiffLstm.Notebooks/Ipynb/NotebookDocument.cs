using System.Text.Json.Nodes;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>
/// A Jupyter notebook (nbformat 4) as Polyglot Notebooks writes it for the .NET Interactive C# kernel: markdown and code
/// cells with their outputs. Reading and writing keep what this model does not interpret (metadata, attachments, unknown
/// outputs), so rewriting a notebook's outputs leaves everything else as it was.
/// </summary>
public sealed class NotebookDocument
{
    /// <summary>The nbformat major version, the only one supported.</summary>
    public const int Format = 4;

    /// <summary>Notebook metadata (kernelspec, language_info, polyglot_notebook, ...).</summary>
    public JsonObject Metadata { get; set; } = new();

    /// <summary>The nbformat minor version: 2 for files VS Code creates, 5 once cells carry ids.</summary>
    public int FormatMinor { get; set; } = 2;

    /// <summary>The cells in order.</summary>
    public List<NotebookCell> Cells { get; } = [];

    /// <summary>Top-level properties this model does not interpret, kept as read.</summary>
    public JsonObject Extra { get; set; } = new();

    /// <summary>An empty notebook for the .NET Interactive C# kernel.</summary>
    public static NotebookDocument CreateCSharp() => new() { Metadata = PolyglotMetadata.NotebookMetadata() };

    /// <summary>The kernel that code cells without their own kernel metadata run in.</summary>
    public string DefaultKernel => PolyglotMetadata.DefaultKernel(Metadata);

    /// <summary>Parses the JSON text of an .ipynb file.</summary>
    /// <param name="sourceName">Named in error messages (usually the path).</param>
    /// <exception cref="NotebookFormatException">Not JSON, not nbformat 4, or a cell or output is malformed.</exception>
    public static NotebookDocument Parse(string json, string sourceName = "notebook") => IpynbReader.Read(json, sourceName);

    /// <summary>Reads an .ipynb file.</summary>
    public static NotebookDocument Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>
    /// The .ipynb text: keys sorted and one-space indentation, as VS Code saves notebooks, so that files this tool rewrites
    /// produce small diffs against files saved by the editor.
    /// </summary>
    public string ToJson() => IpynbWriter.Write(this);

    /// <summary>Writes the notebook atomically (temporary file in the same folder, then a rename over <paramref name="path"/>).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>A deep copy.</summary>
    public NotebookDocument Clone() => Parse(ToJson());
}

/// <summary>An .ipynb file that cannot be read as an nbformat 4 notebook.</summary>
public sealed class NotebookFormatException(string message, Exception? inner = null) : Exception(message, inner);
