using System.CommandLine;
using AutoDiffLstm.Experiments.Models;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>compile</c>: how a cell's step is traced, grouped and fused (or why it runs interpreted).</summary>
internal static class CompileCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cells = CommonOptions.Cells("lstm");
        var hidden = CommonOptions.Hidden(32);
        var batch = CommonOptions.Batch(8);
        var inputSize = new Option<int>("--input-size") { Description = "Input width I", DefaultValueFactory = _ => 32 };
        var command = new Command("compile", "Show a cell's compiled step: the traced graph of primitives, the fused groups with their instructions, and the replayed products.")
        {
            cells, hidden, batch, inputSize,
        };
        command.SetAction(r =>
        {
            int h = r.GetValue(hidden), b = r.GetValue(batch), i = r.GetValue(inputSize);
            foreach (var (name, v) in new[] { ("--hidden", h), ("--batch", b), ("--input-size", i) }) CommonOptions.RequirePositive(name, v);
            var names = CommonOptions.Flatten(r.GetValue(cells)!);
            CommonOptions.RequireKnownCells(names);
            foreach (var name in names)
            {
                var cell = CellCatalog.Cell<float>(name, i, h, new Rng(1));
                stdout.WriteLine(cell.ExplainCompiledStep(b));
                stdout.WriteLine();
            }
            return Cli.Ok;
        });
        return command;
    }
}
