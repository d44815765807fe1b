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
            TrainCommand.Create(stdout, stderr),
            GradCheckCommand.Create(stdout),
            CompareCommand.Create(stdout),
            PaperCommand.Create(stdout),
            SweepCommand.Create(stdout),
            CompileCommand.Create(stdout),
        };
        var threads = new Option<int?>("--threads")
        {
            Description = $"Threads to use: for a matrix product, and for the runs a paper trains at once (default: all {Environment.ProcessorCount} processors); results do not depend on it",
            Recursive = true,
        };
        root.Options.Add(threads);
        var cellFiles = new Option<string[]>("--cell-file")
        {
            Description = "C# file(s) defining cells: a public class with 'public static void Register()' calling CellRegistry.Register; its cells can then be named with --cell",
            Recursive = true,
            AllowMultipleArgumentsPerToken = false,
        };
        root.Options.Add(cellFiles);
        WordedParsers.Install(root);
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            // No command at all: the help is what a newcomer needs, and asking for it is not an error.
            if (args.Length == 0) return root.Parse(["--help"]).Invoke(config);
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var message in ParseErrors(parsed)) stderr.WriteLine($"error: {message}");
                stderr.WriteLine($"Run 'adl {(parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ")}--help' for the valid commands and options.");
                return BadInput;
            }
            int previousThreads = Parallelism.MaxThreads;
            if (parsed.GetValue(threads) is int count)
            {
                CommonOptions.RequirePositive("--threads", count);
                Parallelism.MaxThreads = count;
            }
            foreach (var file in parsed.GetValue(cellFiles) ?? []) CellFile.Load(file);
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

    /// <summary>The parse errors in words: an unknown command or option comes with the nearest valid one.</summary>
    private static IEnumerable<string> ParseErrors(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var unmatched = parsed.UnmatchedTokens;
        bool afterUnknownOption = false;
        foreach (var token in unmatched)
        {
            bool isOption = token.StartsWith('-');
            // The value of an unknown option ("--seq-lenn 5") is not a second mistake.
            if (!isOption && afterUnknownOption) { afterUnknownOption = false; continue; }
            afterUnknownOption = isOption;
            var names = isOption
                ? OptionNames(parsed.CommandResult)
                : command.Subcommands.Select(c => c.Name);
            string? nearest = Suggestions.Nearest(token, names);
            string what = isOption ? $"unknown option '{token}' for '{command.Name}'" : command.Subcommands.Count > 0 ? $"unknown command '{token}'" : $"unexpected argument '{token}' for '{command.Name}'";
            yield return nearest is null
                ? what + (command.Subcommands.Count > 0 && !isOption ? $". Commands: {string.Join(", ", command.Subcommands.Select(c => c.Name))}." : ".")
                : $"{what}; did you mean {nearest}?";
        }
        foreach (var error in parsed.Errors)
        {
            // Already said above, with a suggestion.
            if (unmatched.Count > 0 && (error.Message.Contains("Unrecognized command or argument", StringComparison.Ordinal)
                || error.Message.Contains("Required command was not provided", StringComparison.Ordinal))) continue;
            yield return error.Message;
        }
    }

    /// <summary>The options valid at <paramref name="result"/>'s command: its own and the recursive ones of its parents.</summary>
    private static IEnumerable<string> OptionNames(System.CommandLine.Parsing.CommandResult result)
    {
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            foreach (var o in r.Command.Options)
                if (r == result || o.Recursive)
                    foreach (var name in o.Aliases.Prepend(o.Name)) yield return name;
    }
}
