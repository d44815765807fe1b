using System.Diagnostics;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>
/// A one-node Slurm cluster for the tests of this collection, started with .ci/slurm-cluster.sh (which installs
/// slurm-wlm and munge when they are missing) and stopped by the process ids it recorded. Fails with the script's
/// output when the cluster cannot be started (for example without root), rather than skipping.
/// </summary>
public sealed class SlurmClusterFixture : IDisposable
{
    private static readonly string Script = Path.Combine(RepositoryRoot(), ".ci", "slurm-cluster.sh");

    public SlurmClusterFixture() => Run("start");

    public void Dispose() => Run("stop");

    private static void Run(string verb)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Script);
        info.ArgumentList.Add(verb);
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(600_000)) { p.Kill(true); throw new InvalidOperationException($"{Script} {verb} took more than 10 minutes."); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{Script} {verb} failed (exit {p.ExitCode}); the Slurm test needs root to install and start slurm-wlm and munge:\n{output}\n{err.Result}");
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "AutoDiffLstm.sln"))) return d.FullName;
        throw new InvalidOperationException($"No AutoDiffLstm.sln above {AppContext.BaseDirectory}.");
    }
}

[CollectionDefinition(Name)]
public sealed class SlurmCollection : ICollectionFixture<SlurmClusterFixture>
{
    public const string Name = "Slurm cluster";
}
