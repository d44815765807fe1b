using System.CommandLine;

namespace AutoDiffLstm.Cli;

/// <summary>The options every subcommand spells the same way.</summary>
internal static class CommonOptions
{
    public static Option<string> Cell(string defaultValue) => new("--cell") { Description = "Recurrent cell: " + string.Join(", ", Experiments.Models.CellCatalog.Names), DefaultValueFactory = _ => defaultValue };
    public static Option<string[]> Cells(params string[] defaults) => new("--cell") { Description = "Recurrent cells (repeat or comma-separate): " + string.Join(", ", Experiments.Models.CellCatalog.Names), DefaultValueFactory = _ => defaults, AllowMultipleArgumentsPerToken = true };
    public static Option<string> Task() => new("--task") { Description = "Task: " + string.Join(", ", AutoDiffLstm.Tasks.TaskRegistry.Names), DefaultValueFactory = _ => "adding" };
    public static Option<int> SeqLen(int d) => new("--seq-len") { Description = "Sequence length T", DefaultValueFactory = _ => d };
    public static Option<int> Hidden(int d) => new("--hidden") { Description = "Hidden size H", DefaultValueFactory = _ => d };
    public static Option<int> Batch(int d) => new("--batch") { Description = "Batch size B", DefaultValueFactory = _ => d };
    public static Option<int> Steps(int d) => new("--steps") { Description = "Training steps", DefaultValueFactory = _ => d };
    public static Option<double> Lr(double d) => new("--lr") { Description = "Learning rate", DefaultValueFactory = _ => d };
    public static Option<double?> Clip() => new("--clip") { Description = "Clip the global gradient norm to this value (default: no clipping)" };
    public static Option<ulong> Seed() => new("--seed") { Description = "Seed of weights and data", DefaultValueFactory = _ => 1UL };
    public static Option<string> Out() => new("--out") { Description = "Directory for figures, tables and JSON", DefaultValueFactory = _ => "out" };
    public static Option<bool> Json() => new("--json") { Description = "Print the results as JSON on standard output instead of tables" };

    /// <summary>Splits comma-separated values of a repeatable option.</summary>
    public static string[] Flatten(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    /// <summary>Rejects the first unknown cell name, listing the valid ones.</summary>
    public static void RequireKnownCells(IEnumerable<string> names)
    {
        foreach (var n in names)
            if (!Experiments.Models.CellCatalog.Contains(n))
                throw new ArgumentException($"Unknown cell '{n}'. Valid cells: {string.Join(", ", Experiments.Models.CellCatalog.Names)}.");
    }

    public static void RequirePositive(string option, long value)
    {
        if (value <= 0) throw new ArgumentException($"{option} must be positive, got {value}.");
    }
}
