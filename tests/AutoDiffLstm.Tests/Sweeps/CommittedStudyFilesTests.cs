using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Tests.Papers;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>The study files committed under studies/ are valid as written: each plans its runs with its command's checks.</summary>
public sealed class CommittedStudyFilesTests
{
    [Theory]
    [InlineData("lstm-variants.json", "train", 540)]
    [InlineData("gradflow-radius.json", "gradflow", 70)]
    public void ACommittedStudyFilePlans(string file, string command, int runs)
    {
        var plan = StudyFiles.Plan(Path.Combine(PaperTestFiles.StudiesFolder, file));
        Assert.Equal(command, plan.Command.Name);
        Assert.Equal(runs, plan.Runs.Count);
        Assert.All(plan.Runs, r => Assert.Same(plan.Command, r.Command));
    }

    [Fact]
    public void EveryCommittedStudyFileIsTested() =>
        Assert.Equal(["gradflow-radius.json", "lstm-variants.json"],
            Directory.GetFiles(PaperTestFiles.StudiesFolder, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal));
}
