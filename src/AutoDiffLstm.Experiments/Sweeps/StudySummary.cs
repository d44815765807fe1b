using System.Globalization;
using System.Text;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// The study per case and grid point (variant), the way Greff et al. (2017) report a random search: over all its runs
/// (every sampled setting and seed), and for its best setting (lowest mean over seeds) with the spread over seeds, in the
/// study's metric (<see cref="SweptCommand.Metric"/>). A train run counts as solved when its loss is below
/// <see cref="SolvedFraction"/> of chance, a gradflow run when its gradient is preserved (<see cref="StudyRow.Solved"/>). Written as <c>summary.csv</c> and
/// <c>summary.md</c>.
/// </summary>
public static class StudySummary
{
    /// <summary>The summary table, CSV.</summary>
    public const string CsvFile = "summary.csv";
    /// <summary>The summary table, Markdown.</summary>
    public const string MarkdownFile = "summary.md";
    /// <summary>A train run is solved when its loss / chance is below this.</summary>
    public const double SolvedFraction = 0.1;

    /// <summary>The table's header.</summary>
    public static IReadOnlyList<string> Header(StudyPlan plan) =>
        ["case", "grid point", "runs", $"mean {plan.Command.Metric.Name}", $"median {plan.Command.Metric.Name}", plan.Command.Metric.Solved,
            .. plan.Space.Select(s => "best " + s.Option), $"best mean {plan.Command.Metric.Name}", "best sd over seeds", $"best {plan.Command.Metric.Solved}"];

    /// <summary>One row per case and grid point, in plan order; runs without a quality (pending, failed) are left out and not counted.</summary>
    public static IEnumerable<IReadOnlyList<object?>> Rows(StudyPlan plan, IReadOnlyList<StudyRow> rows) =>
        rows.Where(r => r.Quality is not null).GroupBy(r => (r.Run.CaseIndex, r.Run.GridIndex)).OrderBy(g => g.Key).Select(g =>
        {
            var q = g.Select(r => r.Quality!.Value).ToArray();
            var best = g.GroupBy(r => r.Run.SampleIndex).OrderBy(s => s.Average(r => r.Quality!.Value)).ThenBy(s => s.Key).First().ToArray();
            var bq = best.Select(r => r.Quality!.Value).ToArray();
            return (IReadOnlyList<object?>)[plan.CaseLabel(g.Key.CaseIndex), plan.GridLabel(g.First().Run), q.Length, q.Average(), Median(q),
                g.Count(r => r.Solved), .. plan.Space.Select(s => best[0].Run.Value(s.Option)), bq.Average(), StudyFigures.StandardDeviation(bq), best.Count(r => r.Solved)];
        });

    /// <summary>Writes summary.csv and summary.md under <paramref name="studyDir"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(StudyPlan plan, IReadOnlyList<StudyRow> rows, string studyDir)
    {
        var header = Header(plan);
        var raw = Rows(plan, rows).ToArray();
        string csv = Path.Combine(studyDir, CsvFile), md = Path.Combine(studyDir, MarkdownFile);
        ResultFiles.WriteCsv(csv, header, raw);
        var sb = new StringBuilder();
        sb.Append("# Study ").Append(plan.Spec.Name).Append(": per case and grid point\n\n");
        var metric = plan.Command.Metric;
        sb.Append(CultureInfo.InvariantCulture, $"{metric.Definition}; {metric.SolvedDefinition}. \"best\": the sampled setting with the lowest mean over the {plan.Spec.Seeds.Count} seeds.\n\n");
        sb.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        sb.Append('|').AppendJoin("|", header.Select(_ => "---")).Append("|\n");
        foreach (var row in raw)
            sb.Append("| ").AppendJoin(" | ", row.Select(v => v switch
            {
                null => "",
                double d => d.ToString("G3", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString(),
            })).Append(" |\n");
        AtomicFile.WriteAllText(md, sb.ToString());
        return [csv, md];
    }

    private static double Median(double[] v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
