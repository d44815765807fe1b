using System.Diagnostics;
using System.IO.Compression;
using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Ipynb;
using Microsoft.DotNet.Interactive.Documents;

namespace AutoDiffLstm.Tests.Notebooks;

/// <summary>
/// Tests that build the library in Release (the pack for the kernel, the file-based twin): one at a time, since they
/// write the same obj/Release folders.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReleaseBuildCollection : ICollectionFixture<NotebookKernel>
{
    public const string Name = "builds the library in Release";
}

/// <summary>
/// Sets up the real .NET Interactive kernel once for the test run with .ci/notebook-kernel.sh (Debian's nbconvert, the
/// pinned Microsoft.dotnet-interactive tool, its Jupyter registration, the packages in out/feed), and runs notebooks in
/// it with jupyter nbconvert. Set-up failures are kept and reported by every test that needs the kernel.
/// </summary>
public sealed class NotebookKernel
{
    private readonly Lazy<string> setup = new(RunSetup);

    /// <summary>The local feed the set-up packs into.</summary>
    public static string Feed => Path.Combine(NotebookTestFiles.RepositoryRoot, "out", "feed");

    /// <summary>Runs the set-up script the first time; throws with its output when it fails.</summary>
    public string EnsureReady() => setup.Value;

    /// <summary>
    /// Executes <paramref name="notebook"/> in the kernel at CI scale and returns the executed copy (written under
    /// <paramref name="outputFolder"/>), read back with Documents. Cell errors do not stop the run (--allow-errors): the
    /// caller looks for them in the outputs, so that a failure names every failing cell.
    /// </summary>
    public InteractiveDocument ExecuteAtCiScale(string notebook, string outputFolder)
    {
        EnsureReady();
        var (exitCode, output) = Run("jupyter-nbconvert", NotebookTestFiles.NotebooksFolder, TimeSpan.FromMinutes(8),
            new() { [Notebook.ScaleVariable] = "ci" },
            "--to", "notebook", "--execute", "--allow-errors", notebook, "--output-dir", outputFolder,
            "--ExecutePreprocessor.timeout=480", "--ExecutePreprocessor.startup_timeout=180");
        string executed = Path.Combine(outputFolder, Path.GetFileName(notebook));
        if (exitCode != 0 || !File.Exists(executed))
            throw new InvalidOperationException($"jupyter nbconvert --execute {notebook} exited with {exitCode}:\n{output}");
        return NotebookFile.Load(executed);
    }

    private static string RunSetup()
    {
        string script = Path.Combine(NotebookTestFiles.RepositoryRoot, ".ci", "notebook-kernel.sh");
        var (exitCode, output) = Run("bash", NotebookTestFiles.RepositoryRoot, TimeSpan.FromMinutes(10), [], script);
        if (exitCode != 0) throw new InvalidOperationException($"bash .ci/notebook-kernel.sh exited with {exitCode}:\n{output}");
        return output;
    }

    /// <summary>Runs a process with the test host's MSBuild and VSTest settings removed (they would leak into nested builds).</summary>
    internal static (int ExitCode, string Output) Run(string program, string workingDirectory, TimeSpan timeout,
        Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment) start.Environment[key] = value;

        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{program} could not be started ({e.Message}); run bash .ci/notebook-kernel.sh to install it");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"timed out after {timeout.TotalMinutes} minutes\n{stdout.Result}{stderr.Result}");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }
}

/// <summary>
/// Every notebook runs in the real .NET Interactive kernel, loading the library from the local feed as a user would, at
/// CI scale: no cell may produce an error, and each must show as many image/png figures as its saved, full-size copy
/// (figures come from the package's kernel extension; without it the kernel shows an object tree and no image).
/// </summary>
[Collection(ReleaseBuildCollection.Name)]
public class KernelNotebookTests(NotebookKernel kernel)
{
    public static TheoryData<string> Notebooks() => RepositoryNotebooksTests.Notebooks();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void RunsInTheKernelWithoutErrorsAndShowsItsFigures(string name)
    {
        string notebook = Path.Combine(NotebookTestFiles.NotebooksFolder, name);
        int savedFigures = Figures(NotebookFile.Load(notebook));
        Assert.True(savedFigures > 0, $"{name}: the saved notebook has no image/png output; re-execute it in the kernel (notebooks/README.md)");

        using var folder = new TempFolder();
        var executed = kernel.ExecuteAtCiScale(notebook, folder.Path);

        var errors = executed.Elements.SelectMany((cell, index) => cell.Outputs.OfType<ErrorElement>()
            .Select(e => $"cell {index}: {e.ErrorName}: {e.ErrorValue}")).ToList();
        Assert.True(errors.Count == 0, $"{name} failed in the kernel:\n{string.Join("\n", errors)}");
        Assert.Equal(savedFigures, Figures(executed));
    }

    [Fact]
    public void ThePackagesCarryTheKernelExtensionSymbolsAndMetadata()
    {
        kernel.EnsureReady();
        string version = RepositoryNotebooksTests.PackageVersion("AutoDiffLstm.Experiments");
        foreach (var id in new[] { "AutoDiffLstm", "AutoDiffLstm.Experiments" })
        {
            Assert.True(File.Exists(Path.Combine(NotebookKernel.Feed, $"{id}.{version}.snupkg")), $"no symbols package for {id} in {NotebookKernel.Feed}");
            using var package = ZipFile.OpenRead(Path.Combine(NotebookKernel.Feed, $"{id}.{version}.nupkg"));
            var entries = package.Entries.Select(e => e.FullName).ToList();
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains("README.md", entries);
            using var nuspec = new StreamReader(package.GetEntry($"{id}.nuspec")!.Open());
            string metadata = nuspec.ReadToEnd();
            Assert.Contains("<description>", metadata);
            Assert.Contains("<repository type=\"git\"", metadata);
            Assert.Contains("<license type=\"expression\">MIT</license>", metadata);
        }
        using var experiments = ZipFile.OpenRead(Path.Combine(NotebookKernel.Feed, $"AutoDiffLstm.Experiments.{version}.nupkg"));
        Assert.Contains("interactive-extensions/dotnet/AutoDiffLstm.Interactive.dll", experiments.Entries.Select(e => e.FullName));
    }

    /// <summary>The image/png outputs of a notebook.</summary>
    private static int Figures(InteractiveDocument notebook) =>
        notebook.Elements.SelectMany(cell => cell.Outputs).Count(output => output switch
        {
            DisplayElement d => d.Data.ContainsKey(DisplayFormatter.Png),
            ReturnValueElement r => r.Data.ContainsKey(DisplayFormatter.Png),
            _ => false,
        });
}
