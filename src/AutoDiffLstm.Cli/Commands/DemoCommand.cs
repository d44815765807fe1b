using System.CommandLine;
using System.Globalization;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Studies;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>demo</c>: gradient flow of RNN vs LSTM vs GRU, then a brief training on the adding problem.</summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter stdout)
    {
        var seqLen = CommonOptions.SeqLen(256); seqLen.Description = "Horizon of the gradient-flow comparison";
        var steps = CommonOptions.Steps(1000);
        var hidden = CommonOptions.Hidden(16);
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out();
        var json = CommonOptions.Json();
        var command = new Command("demo", "Gradient flow RNN vs LSTM vs GRU over a long horizon, then LSTM and RNN trained briefly on the adding problem (T = 100). Writes figures and demo-summary.json.")
        {
            seqLen, steps, hidden, seed, outDir, json,
        };
        command.SetAction(r =>
        {
            var options = new DemoOptions { FlowSteps = r.GetValue(seqLen), TrainSteps = r.GetValue(steps), TrainHidden = r.GetValue(hidden), Seed = r.GetValue(seed) };
            CommonOptions.RequirePositive("--steps", options.TrainSteps);
            CommonOptions.RequirePositive("--hidden", options.TrainHidden);
            if (options.FlowSteps < 2) throw new ArgumentException($"--seq-len must be at least 2, got {options.FlowSteps}.");
            var view = new ConsoleView(stdout);
            bool asJson = r.GetValue(json);
            var summary = view.WithProgress("demo", options.TrainSteps, onStep =>
                Demo.Run(options, OutputDirectory.Prepare(r.GetValue(outDir)!), asJson ? null : view.Line, asJson ? null : onStep));
            if (asJson) { stdout.WriteLine(ResultFiles.ToJson(summary)); return Cli.Ok; }
            var c = CultureInfo.InvariantCulture;
            view.Table($"Gradient flow: loss at step {options.FlowSteps}", ["cell", "||dL/dh|| at the loss", $"||dL/dh|| {options.FlowSteps - 1} steps back", "log10 change per step", "steps until 1e-3 of the loss's"],
                summary.GradientFlow.Select(f => (IReadOnlyList<string>)[f.Cell, f.GradNormAtLoss.ToString("G3", c), f.GradNormAtFirstStep.ToString("G3", c), f.Log10ChangePerStep.ToString("F4", c), f.StepsUntil1e3?.ToString(c) ?? "never"]));
            view.Table($"Adding problem, T = {options.AddingLength}, {options.TrainSteps} steps", ["model", "held-out MSE", "baseline MSE", "steps/s"],
                summary.Training.Select(t => (IReadOnlyList<string>)[t.Cell, t.FinalEvalLoss.ToString("G4", c), t.BaselineLoss.ToString("G4", c), t.StepsPerSecond.ToString("F1", c)]));
            view.Line("Wrote: " + string.Join(", ", summary.Files));
            return Cli.Ok;
        });
        return command;
    }
}
