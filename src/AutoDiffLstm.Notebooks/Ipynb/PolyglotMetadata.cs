using System.Text.Json.Nodes;

namespace AutoDiffLstm.Notebooks.Ipynb;

/// <summary>
/// The metadata with which Polyglot Notebooks (.NET Interactive in VS Code) saves a C# <c>.ipynb</c>: the kernelspec that
/// <c>dotnet interactive jupyter install</c> registers, VS Code's <c>language_info</c>, the document's kernel list under
/// <c>polyglot_notebook.kernelInfo</c>, and on each code cell both the current <c>polyglot_notebook.kernelName</c> and
/// the older <c>dotnet_interactive.language</c> that the extension still writes for backward compatibility.
/// </summary>
public static class PolyglotMetadata
{
    /// <summary>The kernel name of C# cells.</summary>
    public const string CSharpKernel = "csharp";
    /// <summary>kernelspec.name of the .NET Interactive C# kernel.</summary>
    public const string CSharpKernelspecName = ".net-csharp";

    /// <summary>Notebook-level metadata of a new C# notebook.</summary>
    public static JsonObject NotebookMetadata() => new()
    {
        ["kernelspec"] = new JsonObject
        {
            ["display_name"] = ".NET (C#)",
            ["language"] = "C#",
            ["name"] = CSharpKernelspecName,
        },
        ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
        ["polyglot_notebook"] = new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = CSharpKernel,
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = CSharpKernel }),
            },
        },
    };

    /// <summary>Cell-level metadata of a C# code cell.</summary>
    public static JsonObject CodeCellMetadata() => new()
    {
        ["dotnet_interactive"] = new JsonObject { ["language"] = CSharpKernel },
        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = CSharpKernel },
    };

    /// <summary>
    /// The kernel a code cell is meant for: <c>polyglot_notebook.kernelName</c>, else <c>dotnet_interactive.language</c>
    /// (the order in which the extension reads them), else the notebook's default.
    /// </summary>
    public static string CellKernel(JsonObject cellMetadata, string notebookDefault) =>
        (cellMetadata["polyglot_notebook"] as JsonObject)?["kernelName"]?.GetValue<string>()
        ?? (cellMetadata["dotnet_interactive"] as JsonObject)?["language"]?.GetValue<string>()
        ?? notebookDefault;

    /// <summary>
    /// The notebook's default kernel: <c>polyglot_notebook.kernelInfo.defaultKernelName</c>, else the kernelspec name
    /// without its <c>.net-</c> prefix, else C#.
    /// </summary>
    public static string DefaultKernel(JsonObject notebookMetadata)
    {
        var fromKernelInfo = ((notebookMetadata["polyglot_notebook"] as JsonObject)?["kernelInfo"] as JsonObject)?["defaultKernelName"]?.GetValue<string>();
        if (fromKernelInfo is not null) return fromKernelInfo;
        var spec = (notebookMetadata["kernelspec"] as JsonObject)?["name"]?.GetValue<string>();
        return spec is not null && spec.StartsWith(".net-", StringComparison.Ordinal) ? spec[".net-".Length..] : CSharpKernel;
    }
}
