using System.Diagnostics;
using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Twins;

namespace AutoDiffLstm.Tests.Notebooks;

[Collection(ReleaseBuildCollection.Name)]
public class FileBasedTwinTests
{
    /// <summary>
    /// A slow test (a `dotnet run file.cs` build, about 10 to 40 s): a generated twin really compiles and runs, with the
    /// rewrites that make notebook code a valid program (hoisted using, type moved to the end, trailing expression shown),
    /// the scale read from the environment, a figure saved by the twin's display, and optimised code throughout: the
    /// twin's own (#:property Optimize=true) and the engine's (built in Release by notebooks/Directory.Build.targets).
    /// </summary>
    [Fact]
    public void AGeneratedTwinRunsWithDotnetRun()
    {
        // A folder fixed per checkout rather than a fresh one: `dotnet run` caches the build of a file-based app by the
        // file's path, so a rerun only rebuilds what changed (and old caches do not pile up).
        var folder = new DirectoryInfo(Path.Combine(Path.GetTempPath(), $"adl-twin-smoke-{StableHash(NotebookTestFiles.RepositoryRoot):x8}"));
        string images = Path.Combine(folder.FullName, "images");
        if (Directory.Exists(images)) Directory.Delete(images, recursive: true);
        folder.Create();
        // The twin gets the build settings of the real notebooks folder.
        File.Copy(Path.Combine(NotebookTestFiles.NotebooksFolder, "Directory.Build.targets"), Path.Combine(folder.FullName, "Directory.Build.targets"), overwrite: true);
        string notebook = Path.Combine(folder.FullName, "twin-smoke.ipynb");
        NotebookTestFiles.Build(
            "md:# Smoke test of a twin",
            "#!csharp\nusing AutoDiffLstm.Experiments.Figures;\nusing AutoDiffLstm.Experiments.Notebooks;\nvar x = Tensor.Scalar(3.0).RequireGrad();",
            "record Point(double X, double Y);\n(x * x).Backward();\nConsole.WriteLine($\"grad {x.Grad!.Item()}\");",
            "var steps = Notebook.Scale(full: 1000, ci: 7);\nnew Point(steps, 0.5)",
            "display(new LineFigure(\"f\", \"x\", \"y\", false, [new Series(\"s\", [0.0, 1.0], [1.0, 2.0])]) { Size = (64, 48) });",
            "bool Optimised(System.Reflection.Assembly a) => a.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)\n" +
            "    .Cast<System.Diagnostics.DebuggableAttribute>().All(d => !d.IsJITOptimizerDisabled);\n" +
            "Console.WriteLine($\"optimised: twin {Optimised(typeof(Point).Assembly)}, engine {Optimised(typeof(Tensor).Assembly)}, experiments {Optimised(typeof(LineFigure).Assembly)}\");")
            .Save(notebook);
        string twin = TwinGenerator.Write(notebook, new TwinOptions { ExperimentsProject = NotebookTestFiles.ExperimentsProject });

        var (exitCode, output) = DotnetRun(twin, folder.FullName, new()
        {
            [Notebook.ScaleVariable] = "ci",
            [Notebook.Display.OutputVariable] = images,
        });

        Assert.True(exitCode == 0, $"dotnet run {twin} exited with {exitCode}:\n{output}");
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        Assert.Contains("grad 6", lines);
        Assert.Contains("Point { X = 7, Y = 0.5 }", lines);
        string png = Path.Combine(images, "display-01.png");
        Assert.Contains($"[image/png 64x48: {png}]", lines);
        Assert.True(DisplayFormatter.IsPng(File.ReadAllBytes(png)));
        Assert.Contains("optimised: twin True, engine True, experiments True", lines);
    }

    private static uint StableHash(string text)
    {
        uint hash = 2166136261; // FNV-1a: string.GetHashCode differs between processes
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return hash;
    }

    private static (int ExitCode, string Output) DotnetRun(string file, string workingDirectory, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("run");
        start.ArgumentList.Add(file);
        // The test host runs inside `dotnet test`, whose MSBuild settings would leak into the nested build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out after 4 minutes\n" + stdout.Result + stderr.Result);
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
