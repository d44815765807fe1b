using System.CommandLine;
using System.Globalization;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>compare</c>: the remedies for vanishing gradients side by side, or one run with and without clipping.</summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout)
    {
        var study = new Option<string>("--study") { Description = "remedies (tanh RNN, IRNN, residual RNN, LSTM with/without forget bias, GRU) or clipping", DefaultValueFactory = _ => "remedies" };
        var task = CommonOptions.Task();
        var seqLen = CommonOptions.SeqLen(50);
        var hidden = CommonOptions.Hidden(32);
        var batch = CommonOptions.Batch(32);
        var steps = CommonOptions.Steps(300);
        var lr = CommonOptions.Lr(1e-2);
        var clip = CommonOptions.Clip();
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out();
        var json = CommonOptions.Json();
        var cell = CommonOptions.Cell("rnn");
        cell.Description = "Cell of the clipping study (--study clipping only)";
        var command = new Command("compare", "Train several models on one task and plot them together: --study remedies or --study clipping.")
        {
            study, task, seqLen, hidden, batch, steps, lr, clip, seed, outDir, json, cell,
        };
        command.SetAction(r =>
        {
            var basis = new TrainingOptions
            {
                Cell = r.GetValue(cell)!, Task = r.GetValue(task)!, SequenceLength = r.GetValue(seqLen), Hidden = r.GetValue(hidden), Batch = r.GetValue(batch),
                Steps = r.GetValue(steps), LearningRate = r.GetValue(lr), ClipNorm = r.GetValue(clip), Seed = r.GetValue(seed),
                EvalEvery = Math.Max(1, r.GetValue(steps) / 20),
            };
            string which = r.GetValue(study)!;
            if (which == "remedies" && r.GetResult(cell) is { Implicit: false })
                throw new ArgumentException($"compare --study remedies trains its own six models (tanh RNN, IRNN, residual RNN, two LSTMs, GRU); --cell {r.GetValue(cell)} applies to --study clipping only.");
            var runs = which switch
            {
                "remedies" => TrainingStudy.Remedies(basis),
                "clipping" => TrainingStudy.Clipping(basis, r.GetValue(clip) ?? 1.0),
                _ => throw new ArgumentException($"Unknown study '{which}'. Valid studies: remedies, clipping."),
            };
            foreach (var (_, o) in runs) o.Validate();
            string dir = OutputDirectory.Prepare(r.GetValue(outDir)!);
            var view = new ConsoleView(stdout);
            bool asJson = r.GetValue(json);
            var results = view.WithProgress(which, basis.Steps, onStep => TrainingStudy.Run(runs, asJson ? null : onStep));
            string stem = Path.Combine(dir, "compare-" + which);
            var files = new List<string>();
            files.AddRange(TrainingStudy.EvalLossFigure(results, $"{which}: {basis.Task}, T = {basis.SequenceLength}").Save(stem + "-eval-loss"));
            files.AddRange(TrainingStudy.GradNormFigure(results, $"{which}: gradient norm before clipping").Save(stem + "-grad-norm"));
            files.AddRange(TrainingStudy.TrainLossFigure(results, $"{which}: training loss").Save(stem + "-train-loss"));
            var rows = results.Select(x => new
            {
                model = x.Label, final_loss = x.Result.LastEvaluation?.Loss ?? double.NaN,
                accuracy = x.Result.LastEvaluation?.Accuracy, steps_completed = x.Result.Steps.Count,
                max_grad_norm = x.Result.Steps.Count > 0 ? x.Result.Steps.Max(s => s.GradNorm) : double.NaN,
                baseline_loss = x.Result.BaselineLoss,
            }).ToArray();
            ResultFiles.WriteJson(stem + ".json", new { study = which, options = basis, results = rows, curves = results.Select(x => new { x.Label, x.Result.Evaluations, losses = x.Result.Steps.Select(s => s.Loss) }) });
            files.Add(stem + ".json");
            if (asJson) { stdout.WriteLine(ResultFiles.ToJson(new { study = which, results = rows, files })); return Cli.Ok; }
            var c = CultureInfo.InvariantCulture;
            view.Table($"{which} on {basis.Task}, T = {basis.SequenceLength}, {basis.Steps} steps", ["model", "held-out loss", "accuracy", "steps done", "max grad norm", "baseline"],
                rows.Select(x => (IReadOnlyList<string>)[x.model, x.final_loss.ToString("G4", c), x.accuracy?.ToString("P1", c) ?? "-", x.steps_completed.ToString(c), x.max_grad_norm.ToString("G3", c), x.baseline_loss.ToString("G4", c)]));
            stdout.WriteLine("Wrote: " + string.Join(", ", files));
            return Cli.Ok;
        });
        return command;
    }
}
