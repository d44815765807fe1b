using System.CommandLine;
using AutoDiffLstm.Cli.Commands;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Cli;

/// <summary>The command-line program: subcommands, shared options, and the mapping from failures to exit codes.</summary>
public static class Cli
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>A check failed or training diverged.</summary>
    public const int Failed = 1;
    /// <summary>Bad input: unknown names, invalid sizes, unusable files. Nothing was done.</summary>
    public const int BadInput = 2;

    /// <summary>Parses and runs <paramref name="args"/>, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("AutoDiffLstm: gradient flow, gradient checks and training of recurrent networks.")
        {
            DemoCommand.Create(stdout),
            GradFlowCommand.Create(stdout),
            TrainCommand.Create(stdout),
            GradCheckCommand.Create(stdout),
            CompareCommand.Create(stdout),
            PaperCommand.Create(stdout),
            SweepCommand.Create(stdout),
        };
        var threads = new Option<int?>("--threads")
        {
            Description = $"Threads to use: for a matrix product, and for the runs a paper trains at once (default: all {Environment.ProcessorCount} processors); results do not depend on it",
            Recursive = true,
        };
        root.Options.Add(threads);
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) stderr.WriteLine($"error: {error.Message}");
                stderr.WriteLine("Run with --help for the valid commands and options.");
                return BadInput;
            }
            int previousThreads = Parallelism.MaxThreads;
            if (parsed.GetValue(threads) is int count)
            {
                CommonOptions.RequirePositive("--threads", count);
                Parallelism.MaxThreads = count;
            }
            try { return parsed.Invoke(config); }
            finally { Parallelism.MaxThreads = previousThreads; }
        }
        // IOException covers unusable paths (an --out that is a file, a missing directory, a damaged checkpoint:
        // SafetensorsException, FileNotFoundException and DirectoryNotFoundException derive from it).
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (TrainingDivergedException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Failed;
        }
    }
}
