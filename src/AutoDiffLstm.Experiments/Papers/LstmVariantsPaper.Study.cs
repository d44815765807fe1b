using System.Globalization;
using System.Text.RegularExpressions;
using static System.FormattableString;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// The paper's section on the committed study <c>studies/lstm-variants</c>: 2 tasks x 9 variants x 3 random settings x
/// 10 seeds trained by <c>adl sweep</c>. Nothing is trained here: every number, table and figure comes from the study's
/// results.csv, summary.csv, importance.csv and figures, so the section is the same at every scale.
/// </summary>
public sealed partial class LstmVariantsPaper
{
    /// <summary>The study the paper reads, <c>studies/{StudyName}.json</c> run into <c>studies/{StudyName}/</c>.</summary>
    public const string StudyName = "lstm-variants";

    /// <summary>One task of the study and its case index: "task=adding seq-len=100" is case 0, task "adding", length 100.</summary>
    private sealed record StudyTask(int Index, string Case, string Task, int Length);

    private static void StudySection(PaperContext context, CommittedStudy study)
    {
        var summary = study.Summary;
        var tasks = summary.Rows.Select(r => summary.Cell(r, "case")).Distinct().Select((c, k) => ParseCase(study, c, k)).ToArray();
        var variants = summary.Rows.Select(r => GridValue(study, summary.Cell(r, "grid point"))).Distinct().ToArray();
        var results = study.Results;
        int Count(Func<IReadOnlyList<string>, bool> where) => results.Rows.Count(where);

        context.Text("study-command", CommittedStudy.SweepCommand(PaperGenerator.DefaultStudiesFolder, StudyName));
        context.Number("study-runs", results.Rows.Count, "F0");
        int seedCount = results.Rows.Select(r => results.Cell(r, "seed")).Distinct().Count();
        int settings = results.Rows.Where(r => results.Cell(r, "case") == tasks[0].Case).Select(r => (results.Cell(r, "lr"), results.Cell(r, "hidden"))).Distinct().Count();
        context.Number("study-seeds", seedCount, "F0");
        context.Number("study-settings", settings, "F0");
        context.Number("study-variants", variants.Length, "F0");
        context.Number("study-steps", results.Rows.Max(r => results.Number(r, "steps")), "F0");
        context.Number("study-runs-per-variant", Count(r => results.Cell(r, "case") == tasks[0].Case && results.Cell(r, "cell") == variants[0]), "F0");
        context.Number("study-lr-min", results.Rows.Min(r => results.Number(r, "lr")), "0.0###");
        context.Number("study-lr-max", results.Rows.Max(r => results.Number(r, "lr")), "0.0###");
        context.Number("study-hidden-min", results.Rows.Min(r => results.Number(r, "hidden")), "F0");
        context.Number("study-hidden-max", results.Rows.Max(r => results.Number(r, "hidden")), "F0");
        context.Number("study-solved-fraction", Sweeps.StudySummary.SolvedFraction, "0.0");

        var rows = new List<IReadOnlyList<object?>>();
        foreach (var task in tasks)
        {
            context.Number($"study-{task.Task}-length", task.Length, "F0");
            var inTask = summary.Rows.Where(r => summary.Cell(r, "case") == task.Case).ToArray();
            foreach (var row in inTask)
            {
                string v = GridValue(study, summary.Cell(row, "grid point"));
                int diverged = Count(r => results.Cell(r, "case") == task.Case && results.Cell(r, "cell") == v && results.Cell(r, "status") == "diverged");
                int runs = (int)summary.Number(row, "runs");
                string key = $"study-{task.Task}-{v}";
                context.Number($"{key}-solved", summary.Number(row, "solved"), "F0");
                context.Number($"{key}-mean", summary.Number(row, "mean loss/chance"), "F3");
                context.Number($"{key}-best-mean", summary.Number(row, "best mean loss/chance"), "F3");
                context.Number($"{key}-best-sd", summary.Number(row, "best sd over seeds"), "F3");
                context.Number($"{key}-best-solved", summary.Number(row, "best solved"), "F0");
                context.Number($"{key}-best-lr", summary.Number(row, "best lr"), "0.000");
                context.Number($"{key}-best-hidden", summary.Number(row, "best hidden"), "F0");
                context.Number($"{key}-diverged", diverged, "F0");
                rows.Add([task.Task, task.Length, v, runs, Invariant($"{summary.Number(row, "solved"):F0}/{runs}"), summary.Number(row, "mean loss/chance"),
                    summary.Number(row, "best lr"), summary.Number(row, "best hidden"), summary.Number(row, "best mean loss/chance"), summary.Number(row, "best sd over seeds"),
                    Invariant($"{summary.Number(row, "best solved"):F0}/{seedCount}"), diverged]);
            }
            var best = inTask.OrderBy(r => summary.Number(r, "best mean loss/chance")).First();
            context.Text($"study-{task.Task}-best", GridValue(study, summary.Cell(best, "grid point")));
            context.Number($"study-{task.Task}-solving-variants", inTask.Count(r => summary.Number(r, "solved") > 0), "F0");
            context.Number($"study-{task.Task}-solved-runs", inTask.Sum(r => summary.Number(r, "solved")), "F0");
            context.Number($"study-{task.Task}-runs", inTask.Sum(r => summary.Number(r, "runs")), "F0");
            // The variants that stay at chance at every sampled setting: best mean within 0.1 of chance (1).
            context.Number($"study-{task.Task}-at-chance", inTask.Count(r => summary.Number(r, "best mean loss/chance") > 1 - Sweeps.StudySummary.SolvedFraction), "F0");
        }
        context.Table("study-summary", Invariant($"The study (`{StudyName}`): per task and variant, its runs ({settings} sampled settings x {seedCount} seeds), those solved (loss below {Sweeps.StudySummary.SolvedFraction:0.0} of chance), the mean held-out loss / chance over all runs (a diverged run counts as at least 1), the best sampled setting (lowest mean over the seeds) with its mean and standard deviation over the seeds and its solved seeds, and the runs that diverged. From studies/{StudyName}/summary.csv and results.csv."),
            [new("task"), new("T", "0"), new("variant"), new("runs", "0"), new("solved"), new("mean loss / chance", "F3"), new("best lr", "0.0000"), new("best hidden", "0"),
             new("best: mean loss / chance", "F3"), new("best: sd over seeds", "F3"), new("best: solved"), new("diverged", "0")],
            rows);

        var importance = study.Importance;
        context.Table("study-importance", Invariant($"Hyper-parameter importance per task (functional ANOVA over a random forest of {importance.Number(importance.Rows[0], "trees"):F0} trees, Hutter et al. 2014, on loss / chance): each main effect's share of the variance and the largest pair interactions, mean and standard deviation over the trees. From studies/{StudyName}/importance.csv."),
            [new("task"), new("effect"), new("kind"), new("share", "P1"), new("sd over trees", "P1")],
            importance.Rows.Select(r => (IReadOnlyList<object?>)[ParseCase(study, importance.Cell(r, "case"), 0).Task, importance.Cell(r, "effect"), importance.Cell(r, "kind"),
                importance.Number(r, "fraction"), importance.Number(r, "spread")]));
        foreach (var r in importance.Rows)
            context.Number($"study-{ParseCase(study, importance.Cell(r, "case"), 0).Task}-share-{Slug(importance.Cell(r, "effect"))}", importance.Number(r, "fraction") * 100, "F1");

        foreach (var task in tasks)
        {
            string figure = tasks.Length == 1 ? "quality" : $"quality-case{task.Index}";
            context.CopyFigure($"study-{task.Task}", Invariant($"The study, {task.Task} at T = {task.Length}: held-out loss / chance of every run per variant (the {settings} sampled settings x {seedCount} seeds), and the best setting's mean and standard deviation over the seeds. Rendered by `adl sweep` (studies/{StudyName}/figures/{figure}.png)."),
                study.Figure(figure), Path.Combine(study.Folder, Sweeps.StudyFigures.Folder, figure + ".csv"));
            string bars = tasks.Length == 1 ? "importance" : $"importance-case{task.Index}";
            context.CopyFigure($"study-importance-{task.Task}", $"The study, {task.Task}: share of the variance of loss / chance per effect (functional ANOVA), mean and standard deviation over the trees. Rendered by `adl sweep`; the numbers are in the importance table.",
                study.Figure(bars), importance.Path);
        }
        context.CopyFigure("study-lr", "The study: held-out loss / chance of every run against the sampled learning rate, both tasks, all variants. Rendered by `adl sweep`.",
            study.Figure("quality-vs-lr"), Path.Combine(study.Folder, Sweeps.StudyFigures.Folder, "quality-vs-lr.csv"));
    }

    private static StudyTask ParseCase(CommittedStudy study, string label, int index)
    {
        var m = Regex.Match(label, @"^task=(?<task>[a-z0-9-]+) seq-len=(?<len>\d+)$");
        if (!m.Success) throw new InvalidDataException($"{study.Summary.Path}: case '{label}' is not 'task=<task> seq-len=<T>', the cases of studies/{StudyName}.json.");
        return new StudyTask(index, label, m.Groups["task"].Value, int.Parse(m.Groups["len"].Value, CultureInfo.InvariantCulture));
    }

    private static string GridValue(CommittedStudy study, string label) =>
        label.StartsWith("cell=", StringComparison.Ordinal) ? label["cell=".Length..]
            : throw new InvalidDataException($"{study.Summary.Path}: grid point '{label}' is not 'cell=<variant>', the grid of studies/{StudyName}.json.");

    /// <summary>An effect's name as a number name: "cell x log10 lr" -> "cell-x-log10-lr".</summary>
    private static string Slug(string effect) => Regex.Replace(effect.ToLowerInvariant(), "[^a-z0-9]+", "-").Trim('-');
}
