using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Cli;
using AutoDiffLstm.Notebooks.Ipynb;
using AutoDiffLstm.Notebooks.Running;
using AutoDiffLstm.Notebooks.Twins;

namespace AutoDiffLstm.Tests.Notebooks;

/// <summary>Every notebook in notebooks/ runs at CI scale and has a twin in sync, so that none can rot unnoticed.</summary>
public class RepositoryNotebooksTests
{
    private static readonly NotebookRunner Runner = new();

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(NotebookTestFiles.NotebooksFolder, "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void RunsAtCiScale(string name)
    {
        var notebook = NotebookDocument.Load(Path.Combine(NotebookTestFiles.NotebooksFolder, name));
        Assert.Equal(PolyglotMetadata.CSharpKernelspecName, notebook.Metadata["kernelspec"]?["name"]?.GetValue<string>());
        var result = Runner.Run(notebook, new NotebookRunOptions { Scale = NotebookScale.Ci });
        Assert.True(result.Succeeded, $"{name}: {result.Failure}");
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
}
