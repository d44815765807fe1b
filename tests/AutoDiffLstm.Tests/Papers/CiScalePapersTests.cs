using System.Text.Json;
using AutoDiffLstm.Experiments.Papers;

namespace AutoDiffLstm.Tests.Papers;

/// <summary>
/// Runs every paper's generator at CI scale into a temporary folder holding a copy of the committed paper.md, and
/// compares with the committed folder: the same files, the same result keys, the prose untouched. A paper whose
/// committed outputs came from older code (a renamed figure, a number no longer registered) fails here.
/// </summary>
public class CiScalePapersTests
{
    [Theory]
    [MemberData(nameof(PaperTestFiles.Ids), MemberType = typeof(PaperTestFiles))]
    public void TheCiRunProducesTheCommittedFilesAndKeys(string id)
    {
        string committed = PaperTestFiles.Folder(id);
        string temp = Path.Combine(Path.GetTempPath(), $"adl-paper-{id}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            string committedMarkdown = File.ReadAllText(Path.Combine(committed, PaperGenerator.PaperFile));
            File.WriteAllText(Path.Combine(temp, PaperGenerator.PaperFile), committedMarkdown);
            string command = PaperCatalog.CommandLine(id, PaperScale.Ci, temp);
            // Papers that quote a committed study read it from the repository's studies/ at every scale.
            var run = PaperGenerator.Generate(id, PaperScale.Ci, temp, command, studiesFolder: PaperTestFiles.StudiesFolder);

            Assert.False(run.CreatedSkeleton);
            Assert.Equal(PaperTestFiles.RelativeFiles(committed), PaperTestFiles.RelativeFiles(temp));
            Assert.Equal(run.Results.Files, PaperTestFiles.RelativeFiles(temp));

            var ours = PaperResults.Load(Path.Combine(temp, PaperGenerator.ResultsFile));
            var theirs = PaperResults.Load(Path.Combine(committed, PaperGenerator.ResultsFile));
            Assert.Equal(theirs.Numbers.Keys.Order(StringComparer.Ordinal), ours.Numbers.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(theirs.Tables.Keys.Order(StringComparer.Ordinal), ours.Tables.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(theirs.Figures.Keys.Order(StringComparer.Ordinal), ours.Figures.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(JsonKeys(Path.Combine(committed, PaperGenerator.ResultsFile)), JsonKeys(Path.Combine(temp, PaperGenerator.ResultsFile)));
            Assert.Equal("ci", ours.Scale);
            Assert.Equal(command, ours.Command);

            string rendered = File.ReadAllText(Path.Combine(temp, PaperGenerator.PaperFile));
            Assert.Equal(PaperTestFiles.Prose(committedMarkdown), PaperTestFiles.Prose(rendered));
            Assert.Equal(PaperMarkdown.Render(rendered, ours), rendered);
        }
        finally
        {
            try { Directory.Delete(temp, recursive: true); }
            catch (IOException) { /* a leftover temp folder is harmless */ }
        }
    }

    /// <summary>The property names of a JSON document down to the items of the numbers, tables and figures maps.</summary>
    private static string[] JsonKeys(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var keys = new List<string>();
        foreach (var top in doc.RootElement.EnumerateObject())
        {
            keys.Add(top.Name);
            if (top.Value.ValueKind != JsonValueKind.Object) continue;
            foreach (var item in top.Value.EnumerateObject())
            {
                keys.Add(top.Name + "." + item.Name);
                if (item.Value.ValueKind == JsonValueKind.Object)
                    keys.AddRange(item.Value.EnumerateObject().Select(p => $"{top.Name}.{item.Name}.{p.Name}"));
            }
        }
        return keys.Order(StringComparer.Ordinal).ToArray();
    }
}
