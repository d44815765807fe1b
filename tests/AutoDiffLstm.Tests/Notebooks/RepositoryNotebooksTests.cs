using System.Text.RegularExpressions;
using System.Xml.Linq;
using AutoDiffLstm.Notebooks.Cells;
using AutoDiffLstm.Notebooks.Cli;
using AutoDiffLstm.Notebooks.Ipynb;
using AutoDiffLstm.Notebooks.Twins;

namespace AutoDiffLstm.Tests.Notebooks;

/// <summary>
/// Every notebook in notebooks/ is a C# notebook that loads the package version the projects pack, through the package
/// loader cell, and has a twin in sync, so that none can rot unnoticed. (KernelNotebookTests runs them in the kernel.)
/// </summary>
public class RepositoryNotebooksTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(NotebookTestFiles.NotebooksFolder, "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void LoadsThePackedVersionThroughTheLoaderCell(string name)
    {
        var notebook = NotebookFile.Load(Path.Combine(NotebookTestFiles.NotebooksFolder, name));
        Assert.Equal(NotebookFile.CSharpKernelspecName, (notebook.Metadata["kernelspec"] as IDictionary<string, object>)?["name"]?.ToString());
        var code = notebook.Elements.Where(e => e.KernelName == NotebookFile.CSharpKernel).Select(e => e.Contents).ToList();
        Assert.True(code.Count >= 2, $"{name}: expected the package loader cell and the #r cell first");
        Assert.StartsWith(CellCode.PackageLoaderMarker, code[0]);
        var reference = Regex.Match(code[1], @"^#r ""nuget: AutoDiffLstm\.Experiments, (?<version>[^""]+)""", RegexOptions.Multiline);
        Assert.True(reference.Success, $"{name}: the second code cell should start with #r \"nuget: AutoDiffLstm.Experiments, <version>\", not `{code[1].Split('\n')[0]}`");
        Assert.Equal(PackageVersion("AutoDiffLstm.Experiments"), reference.Groups["version"].Value);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void HasATwinInSync(string name)
    {
        var check = TwinGenerator.Check(Path.Combine(NotebookTestFiles.NotebooksFolder, name));
        Assert.True(check.State == TwinState.InSync, check.ToString());
    }

    [Fact]
    public void EveryTwinHasANotebook() => Assert.Empty(NotebookCommands.OrphanTwins(NotebookTestFiles.NotebooksFolder));

    [Fact]
    public void TheEngineAndTheExperimentsPackageShareOneVersion() =>
        Assert.Equal(PackageVersion("AutoDiffLstm"), PackageVersion("AutoDiffLstm.Experiments"));

    /// <summary>The Version a project packs with, read from its .csproj.</summary>
    internal static string PackageVersion(string project)
    {
        string path = Path.Combine(NotebookTestFiles.RepositoryRoot, "src", project, project + ".csproj");
        return XDocument.Load(path).Descendants("Version").SingleOrDefault()?.Value
               ?? throw new InvalidOperationException($"{path} has no <Version>: the notebooks' #r \"nuget: …\" pins one.");
    }
}
