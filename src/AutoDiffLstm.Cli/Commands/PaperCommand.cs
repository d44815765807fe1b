using System.CommandLine;
using System.Globalization;
using AutoDiffLstm.Experiments.Papers;

namespace AutoDiffLstm.Cli.Commands;

/// <summary>
/// <c>paper &lt;id&gt;</c>: runs a paper's experiments, writes its figures, tables and results.json, and rewrites the
/// generated blocks of its paper.md (see papers/README.md).
/// </summary>
internal static class PaperCommand
{
    public static Command Create(TextWriter stdout)
    {
        var id = new Argument<string>("id") { Description = "The paper: " + string.Join(", ", PaperCatalog.Ids) };
        var scale = new Option<string>("--scale") { Description = "full (the committed paper's sizes) or ci (seconds, for tests)", DefaultValueFactory = _ => "full" };
        var outDir = new Option<string?>("--out") { Description = "Paper folder (default: papers/<id>); its paper.md keeps its prose, only the generated blocks are rewritten" };
        var studies = new Option<string>("--studies") { Description = "Folder of the committed studies a paper reads (lstm-variants reads lstm-variants/ there, written by adl sweep)", DefaultValueFactory = _ => PaperGenerator.DefaultStudiesFolder };
        var renderOnly = new Option<bool>("--render-only") { Description = "Run nothing: rewrite the generated blocks of paper.md from the folder's results.json" };
        var command = new Command("paper", "Regenerate a reproducible write-up: run its experiments, write figures (PNG, SVG), tables (CSV) and results.json, and rewrite the generated blocks of its paper.md.")
        {
            id, scale, outDir, studies, renderOnly,
        };
        command.SetAction(r =>
        {
            var paper = PaperCatalog.Find(r.GetValue(id)!);
            var chosenScale = PaperScales.Parse(r.GetValue(scale));
            string? outOption = r.GetValue(outDir);
            string dir = outOption ?? PaperCatalog.DefaultOut(paper.Id);
            var view = new ConsoleView(stdout);
            PaperRun run;
            if (r.GetValue(renderOnly))
            {
                run = PaperGenerator.Render(dir);
                view.Line($"Rendered {run.PaperPath} from {Path.Combine(dir, PaperGenerator.ResultsFile)} ({run.Results.Scale} scale, produced by: {run.Results.Command}).");
            }
            else
            {
                string commandLine = PaperCatalog.CommandLine(paper.Id, chosenScale, outOption, r.GetValue(studies));
                view.Line($"{paper.Title} ({PaperScales.Name(chosenScale)} scale) -> {dir}");
                run = PaperGenerator.Generate(paper.Id, chosenScale, dir, commandLine, view.Line, r.GetValue(studies));
                view.Line(string.Create(CultureInfo.InvariantCulture, $"Experiments took {run.Results.RuntimeSeconds:F1} s on {run.Results.ProcessorCount} processors."));
            }
            var results = run.Results;
            view.Table($"{results.Title}: generated items", ["kind", "count"],
            [
                ["numbers", results.Numbers.Count.ToString(CultureInfo.InvariantCulture)],
                ["tables", results.Tables.Count.ToString(CultureInfo.InvariantCulture)],
                ["figures", results.Figures.Count.ToString(CultureInfo.InvariantCulture)],
            ]);
            if (run.CreatedSkeleton) view.Line($"{run.PaperPath} did not exist: wrote a skeleton with every generated block; add the prose around the markers.");
            if (run.RemovedStale.Count > 0) view.Line("Removed files this paper no longer produces: " + string.Join(", ", run.RemovedStale));
            view.Line($"Wrote {results.Files.Count} files under {dir}.");
            return Cli.Ok;
        });
        return command;
    }
}
