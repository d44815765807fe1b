using System.Text.RegularExpressions;
using AutoDiffLstm.Notebooks.Snippets;

namespace AutoDiffLstm.Tests.Docs;

/// <summary>The README's C# examples are what researchers copy: each one must compile and run as written.</summary>
public sealed partial class ReadmeExamplesTests
{
    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    public static TheoryData<int> Blocks()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < CSharpBlock().Count(Readme()); i++) data.Add(i);
        return data;
    }

    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AutoDiffLstm.sln"))) return File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        throw new FileNotFoundException("README.md not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void ReadmeHasTheTenLineExampleAndTheCustomCell()
    {
        var blocks = CSharpBlock().Matches(Readme()).Select(m => m.Groups["code"].Value).ToArray();
        Assert.Contains(blocks, b => b.Contains("loss.Backward()") && b.Contains("GradCheck.Check"));
        Assert.Contains(blocks, b => b.Contains("new CustomCell<double>"));
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void ExampleRuns(int index)
    {
        string code = CSharpBlock().Matches(Readme())[index].Groups["code"].Value;
        // Script code takes using directives and statements as a program's top level would.
        var result = SnippetRunner.Run("using AutoDiffLstm.Recurrent;\n" + code);
        Assert.True(result.Succeeded, $"README example {index} failed: {result.Failure}");
        // Every example ends by printing a gradient check: it must have run and passed.
        Assert.Contains("GradCheck passed", result.Output);
    }
}
