using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Studies;

namespace AutoDiffLstm.Cli.Commands;

/// <summary><c>gradflow</c>: ||dL/dh_t|| per step for any cells, an optional spectral-radius sweep and Jacobian norms.</summary>
internal static class GradFlowCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cells = CommonOptions.Cells("rnn", "lstm", "gru");
        var seqLen = CommonOptions.SeqLen(200);
        var hidden = CommonOptions.Hidden(32);
        var batch = CommonOptions.Batch(8);
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out();
        var json = CommonOptions.Json();
        var forgetBias = new Option<double?>("--forget-bias") { Description = "Initial forget-gate bias of LSTM cells" };
        var radii = new Option<double[]>("--radii") { Description = "Instead of --cell: sweep a tanh RNN over these spectral radii of W_hh (e.g. 0.8,1.0,1.2,1.5)", AllowMultipleArgumentsPerToken = true, CustomParser = ParseDoubles };
        var jacobian = new Option<bool>("--jacobian") { Description = "Also compute ||dh_T/dh_t||_2 (one sequence, H backward passes)" };
        var lyapunov = new Option<bool>("--lyapunov") { Description = "Also compute each network's Lyapunov spectrum (QR iteration over the state Jacobians, one sequence) and compare its largest exponent with the measured gradient decay" };
        var gates = new Option<bool>("--gates") { Description = "Also record gate statistics over time (mean and saturated fraction of every gate the cell reports)" };
        var command = new Command("gradflow", "Measure how a loss on the last step reaches back through time: ||dL/dh_t|| (and ||dL/dc_t||) per step, for any cells.")
        {
            cells, seqLen, hidden, batch, seed, outDir, json, forgetBias, radii, jacobian, gates, lyapunov,
        };
        command.SetAction(r =>
        {
            var (t, h, b, names, rs) = Validate(r);
            double? fb = r.GetValue(forgetBias);
            string dir = OutputDirectory.Prepare(r.GetValue(outDir)!);
            var curves = rs.Length > 0
                ? GradientFlowStudy.SpectralRadiusSweep(rs, t, h, b, r.GetValue(seed))
                : GradientFlowStudy.Compare(names.Select(n => new GradientFlowStudy.Contender(
                    CellLabels.Of(n, CellCatalog.AcceptsForgetBias(n) ? fb : null), n, CellCatalog.AcceptsForgetBias(n) ? fb : null)), t, h, b, inputSize: 4, r.GetValue(seed));
            string stem = rs.Length > 0 ? "gradflow-radius-sweep" : "gradflow";
            var files = new List<string>(GradientFlowStudy.Figure(curves, rs.Length > 0
                ? $"tanh RNN, W_hh orthogonal x rho: gradient over {t} steps" : $"Gradient flow from a loss at step {t}").Save(Path.Combine(dir, stem)));
            if (curves.Any(c => c.Result.StateNames.Contains("c")))
                files.AddRange(GradientFlowStudy.Figure(curves.Where(c => c.Result.StateNames.Contains("c")).ToArray(), "Cell state gradient ||dL/dc_t||", "c").Save(Path.Combine(dir, stem + "-cell-state")));
            double[][]? jac = null;
            if (r.GetValue(jacobian))
            {
                var inputs = Tensor.RandomNormal<double>(new Rng(r.GetValue(seed)), [t, 1, 4]);
                jac = names.Select(n => GradientFlow.JacobianNorms(CellCatalog.Cell<double>(n, 4, h, new Rng(r.GetValue(seed) + 1), CellCatalog.AcceptsForgetBias(n) ? fb : null), inputs)).ToArray();
                files.AddRange(new Experiments.Figures.LineFigure($"Jacobian norms ||dh_{t}/dh_t||", "steps back from the last step", "spectral norm", true,
                    names.Select((n, i) => new Experiments.Figures.Series(CellLabels.Of(n, CellCatalog.AcceptsForgetBias(n) ? fb : null), Enumerable.Range(0, t).Select(k => (double)k).ToArray(), jac[i].Reverse().ToArray())).ToArray())
                    .Save(Path.Combine(dir, stem + "-jacobian")));
            }
            object? gateSummary = null;
            if (r.GetValue(gates))
            {
                var traces = GradientFlowStudy.Gates(names.Select(n => new GradientFlowStudy.Contender(n, n, CellCatalog.AcceptsForgetBias(n) ? fb : null)), t, h, b, 4, r.GetValue(seed));
                foreach (var (label, g) in traces.Where(x => x.Gates.Count > 0))
                    files.AddRange(GradientFlowStudy.GateFigure(label, g).Save(Path.Combine(dir, $"{stem}-gates-{label}")));
                string gatesCsv = Path.Combine(dir, stem + "-gates.csv");
                ResultFiles.WriteCsv(gatesCsv, ["cell", "gate", "t", "mean", "saturated_fraction"], traces.SelectMany(x => x.Gates.SelectMany(g =>
                    g.Mean.Select((m, k) => (IReadOnlyList<object?>)[x.Label, g.Gate, k, m, g.Saturated[k]]))));
                files.Add(gatesCsv);
                gateSummary = traces.Select(x => new { cell = x.Label, gates = x.Gates.Select(g => new { gate = g.Gate, mean = g.Mean.Average(), saturated = g.Saturated.Average() }) }).ToArray();
            }
            object? lyapunovSummary = null;
            if (r.GetValue(lyapunov))
            {
                var spectra = rs.Length > 0
                    ? LyapunovStudy.Radii(rs, t, h, r.GetValue(seed))
                    : LyapunovStudy.Cells(names.Select(n => new GradientFlowStudy.Contender(CellLabels.Of(n, CellCatalog.AcceptsForgetBias(n) ? fb : null), n, CellCatalog.AcceptsForgetBias(n) ? fb : null)), t, h, inputSize: 4, r.GetValue(seed));
                files.AddRange(LyapunovStudy.Figure(spectra).Save(Path.Combine(dir, stem + "-lyapunov")));
                lyapunovSummary = spectra.Select(x => new
                {
                    curve = x.Label, largest_exponent = x.Spectrum.Largest, exponent_sum = x.Spectrum.Sum,
                    predicted_log10_change_per_step = x.PredictedLog10ChangePerStep, measured_log10_change_per_step = x.MeasuredLog10ChangePerStep,
                    exponents = x.Spectrum.Exponents,
                }).ToArray();
            }
            string csv = Path.Combine(dir, stem + ".csv");
            ResultFiles.WriteCsv(csv, ["curve", "state", "steps_back", "grad_norm"], curves.SelectMany(c => c.Result.StateNames.SelectMany((s, si) =>
                c.Result.Norms[si].Reverse().Select((v, k) => (IReadOnlyList<object?>)[c.Label, s, k, v]))));
            files.Add(csv);
            var rows = curves.Select(c => new
            {
                curve = c.Label, grad_norm_at_loss = c.Result.HiddenNorms[^1], grad_norm_at_first_step = c.Result.HiddenNorms[0],
                log10_change_per_step = c.Result.Log10SlopePerStep, steps_until_1e_3 = c.Result.StepsUntilBelow(1e-3),
            }).ToArray();
            string jsonPath = Path.Combine(dir, stem + ".json");
            var summary = new { seq_len = t, hidden = h, batch = b, curves = rows, jacobian_norms = jac, gates = gateSummary, lyapunov = lyapunovSummary, files = files.Append(jsonPath).ToArray() };
            ResultFiles.WriteJson(jsonPath, summary);
            if (r.GetValue(json)) { stdout.WriteLine(ResultFiles.ToJson(summary)); return Cli.Ok; }
            var ci = CultureInfo.InvariantCulture;
            new ConsoleView(stdout).Table($"Gradient flow over {t} steps (H = {h}, B = {b})", ["curve", "||dL/dh|| at the loss", "at the first step", "log10 change per step", "steps until 1e-3"],
                rows.Select(x => (IReadOnlyList<string>)[x.curve, x.grad_norm_at_loss.ToString("G3", ci), x.grad_norm_at_first_step.ToString("G3", ci), x.log10_change_per_step.ToString("F4", ci), x.steps_until_1e_3?.ToString(ci) ?? "never"]));
            stdout.WriteLine("Wrote: " + string.Join(", ", summary.files));
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>
    /// Checks the parsed options as the command does before it measures anything, throwing <see cref="ArgumentException"/>
    /// naming the option; returns T, H, B, the cells and the radii. <c>adl sweep</c> validates a gradflow study's runs
    /// with it.
    /// </summary>
    internal static (int SeqLen, int Hidden, int Batch, string[] Cells, double[] Radii) Validate(ParseResult r)
    {
        int t = r.GetValue<int>("--seq-len"), h = r.GetValue<int>("--hidden"), b = r.GetValue<int>("--batch");
        if (t < 2) throw new ArgumentException($"--seq-len must be at least 2, got {t}.");
        CommonOptions.RequirePositive("--hidden", h);
        CommonOptions.RequirePositive("--batch", b);
        var names = CommonOptions.Flatten(r.GetValue<string[]>("--cell")!);
        CommonOptions.RequireKnownCells(names);
        double? fb = r.GetValue<double?>("--forget-bias");
        var rs = r.GetValue<double[]>("--radii") ?? [];
        if (rs.Length > 0)
        {
            // The sweep is of a tanh RNN only: an option that shapes the cell comparison would be silently dropped.
            var ignored = new (string Option, bool Given)[] { ("--cell", r.GetResult("--cell") is OptionResult { Implicit: false }), ("--jacobian", r.GetValue<bool>("--jacobian")), ("--gates", r.GetValue<bool>("--gates")), ("--forget-bias", fb is not null) }
                .Where(x => x.Given).Select(x => x.Option).ToArray();
            if (ignored.Length > 0)
                throw new ArgumentException($"gradflow --radii sweeps a tanh RNN over spectral radii; {string.Join(", ", ignored)} {(ignored.Length == 1 ? "does" : "do")} not apply to it. Run the sweep and the cell comparison separately.");
        }
        if (fb is not null && !names.Any(CellCatalog.AcceptsForgetBias))
            throw new ArgumentException($"--forget-bias applies to LSTM cells with their own forget gate; none of the cells given has one ({string.Join(", ", names)}).");
        return (t, h, b, names, rs);
    }

    private static double[] ParseDoubles(System.CommandLine.Parsing.ArgumentResult result)
    {
        var values = new List<double>();
        foreach (var token in result.Tokens)
            foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v > 0) || !double.IsFinite(v))
                { result.AddError($"--radii: '{part}' is not a positive number."); return []; }
                values.Add(v);
            }
        return values.ToArray();
    }
}
