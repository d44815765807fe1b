using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Tests.Cli;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>The Slurm backend against a real one-node cluster: one job array, the same gathered results as the local backend, bit for bit.</summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmSweepTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void AStudySubmittedAsOneJobArrayGathersTheSameResultsAsTheLocalBackend()
    {
        string spec = StudyFiles.Write(temp.File("small.json"), StudyFiles.Small);
        string local = temp.File("local"), slurm = temp.File("slurm");
        CliRun.Expect(0, "sweep", spec, "--out", local, "--jobs", "2");
        var submitted = CliRun.Expect(0, "sweep", spec, "--out", slurm, "--slurm", "--poll-seconds", "0.5", "--mem", "400M");
        Assert.Contains("Submitted job array", submitted.Out);
        Assert.Contains("4 done, 0 diverged, 0 failed, 0 pending of 4 runs", submitted.Out);
        // One array of four tasks, from one generated script.
        string script = File.ReadAllText(Path.Combine(slurm, SlurmBackend.Folder, "submission-1", "array.sbatch"));
        Assert.Contains("#SBATCH --array=0-3", script);
        Assert.Single(Directory.GetDirectories(Path.Combine(slurm, SlurmBackend.Folder), "submission-*"));
        Assert.Equal(4, Directory.GetFiles(Path.Combine(slurm, SlurmBackend.Folder, "submission-1"), "task-*.out").Length);
        var expected = StudyFiles.Gathered(local);
        var actual = StudyFiles.Gathered(slurm);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs between the local and the Slurm backend.");

        // Submitting again submits nothing: every run has finished.
        var again = CliRun.Expect(0, "sweep", spec, "--out", slurm, "--slurm");
        Assert.Contains("Every run has finished; nothing to submit.", again.Out);
    }
}
