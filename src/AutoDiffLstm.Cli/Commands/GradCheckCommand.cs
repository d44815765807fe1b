using System.CommandLine;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>gradcheck</c>: the layer's analytic gradients against central differences in double; exit code 1 on failure.</summary>
internal static class GradCheckCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cells = CommonOptions.Cells("rnn", "lstm", "gru");
        var seqLen = CommonOptions.SeqLen(100);
        var hidden = CommonOptions.Hidden(4);
        var batch = CommonOptions.Batch(2);
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var layers = new Option<int>("--layers") { Description = "Stacked recurrent layers", DefaultValueFactory = _ => 1 };
        var inputSize = new Option<int>("--input-size") { Description = "Input width I", DefaultValueFactory = _ => 3 };
        var directions = new Option<int>("--directions") { Description = "Random directions of the directional check", DefaultValueFactory = _ => 8 };
        var command = new Command("gradcheck", "Check every gradient of a recurrent layer (parameters, inputs, initial state) against central finite differences in double.")
        {
            cells, seqLen, hidden, batch, seed, json, layers, inputSize, directions,
        };
        command.SetAction(r =>
        {
            int t = r.GetValue(seqLen), h = r.GetValue(hidden), b = r.GetValue(batch), l = r.GetValue(layers), i = r.GetValue(inputSize), d = r.GetValue(directions);
            foreach (var (name, v) in new[] { ("--seq-len", t), ("--hidden", h), ("--batch", b), ("--layers", l), ("--input-size", i), ("--directions", d) })
                CommonOptions.RequirePositive(name, v);
            var names = CommonOptions.Flatten(r.GetValue(cells)!);
            CommonOptions.RequireKnownCells(names);
            var reports = names.Select(n =>
            {
                var rng = new Rng(r.GetValue(seed));
                var layer = CellCatalog.Layer<double>(n, i, h, rng, l);
                var x = Tensor.RandomNormal<double>(rng, [t, b, i]);
                return (Cell: n, Report: RecurrentGradCheck.Check(layer, x, seed: r.GetValue(seed),
                    check: new GradCheckOptions { Mode = GradCheckMode.Directional, Directions = d, Seed = r.GetValue(seed) + 7 }));
            }).ToArray();
            bool passed = reports.All(x => x.Report.Passed);
            if (r.GetValue(json))
                stdout.WriteLine(ResultFiles.ToJson(reports.Select(x => new { cell = x.Cell, seq_len = t, x.Report.Passed, x.Report.MaxAbsoluteError, x.Report.MaxRelativeError, x.Report.Worst, x.Report.Compared }).ToArray()));
            else
                foreach (var (cell, report) in reports) stdout.WriteLine($"{cell} (T = {t}, H = {h}, B = {b}, layers = {l}): {report}");
            return passed ? Cli.Ok : Cli.Failed;
        });
        return command;
    }
}
