using System.Globalization;
using System.Text;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>One run's line of the gathered table.</summary>
public sealed record StudyRow(PlannedRun Run, RunOutcome Outcome)
{
    /// <summary>Final held-out loss over the task's chance loss (1 = chance, 0 = perfect); NaN without a final loss.</summary>
    public double LossRatio => Outcome.Result is { FinalLoss: double l, BaselineLoss: double b } && b > 0 ? l / b : double.NaN;

    /// <summary>
    /// The quality the analysis uses (lower is better; see <see cref="SweptCommand.Metric"/>). A train run: the loss ratio
    /// of a finished run; a diverged run counts as no better than chance (its last ratio if that is worse), so a learning
    /// rate that blows up is scored, not dropped. A gradflow run: |log10 change of ||dL/dh_t|| per step|; one whose norms
    /// overflowed has none. Null for pending and failed runs.
    /// </summary>
    public double? Quality => Outcome.GradFlow is { } flow
        ? Outcome.Status == RunStatus.Done ? GradFlowSweep.Quality(flow) : null
        : Outcome.Status switch
        {
            RunStatus.Done => double.IsFinite(LossRatio) ? LossRatio : null,
            RunStatus.Diverged => double.IsFinite(LossRatio) ? Math.Max(1, LossRatio) : 1,
            _ => null,
        };

    /// <summary>
    /// Whether the run reached the study's goal: a train run solved its task (loss below
    /// <see cref="StudySummary.SolvedFraction"/> of chance); a gradflow run's gradient was preserved over the sequence.
    /// </summary>
    public bool Solved => Outcome.GradFlow is { } flow ? Outcome.Status == RunStatus.Done && GradFlowSweep.Preserved(flow) : Quality < StudySummary.SolvedFraction;
}

/// <summary>
/// Gathers a study's run folders into one table: <c>results.csv</c> (full precision) and <c>results.md</c>, both written
/// atomically. The table holds only what the runs computed, never timings, so the same study gives the same bytes
/// whichever backend ran it.
/// </summary>
public static class StudyResults
{
    /// <summary>The gathered table, CSV.</summary>
    public const string CsvFile = "results.csv";
    /// <summary>The gathered table, Markdown.</summary>
    public const string MarkdownFile = "results.md";

    /// <summary>Reads every run's folder.</summary>
    public static IReadOnlyList<StudyRow> Read(StudyPlan plan, string studyDir) =>
        plan.Runs.Select(r => new StudyRow(r, RunFolder.Read(RunFolder.Path(studyDir, r), r))).ToArray();

    /// <summary>The table's header.</summary>
    public static IReadOnlyList<string> Header(StudyPlan plan) =>
        ["run", "id", "case", .. plan.Varied, "status", .. plan.Command.ResultColumns];

    /// <summary>The table's rows in run order (raw values).</summary>
    public static IEnumerable<IReadOnlyList<object?>> Rows(StudyPlan plan, IReadOnlyList<StudyRow> rows) => rows.Select(row =>
        (IReadOnlyList<object?>)[row.Run.Index, row.Run.Id, plan.CaseLabel(row.Run.CaseIndex), .. plan.Varied.Select(row.Run.Value),
            row.Outcome.Status.ToString().ToLowerInvariant(), .. plan.Command.ResultCells(row)]);

    /// <summary>Writes results.csv and results.md under <paramref name="studyDir"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(StudyPlan plan, IReadOnlyList<StudyRow> rows, string studyDir)
    {
        var header = Header(plan);
        var raw = Rows(plan, rows).ToArray();
        string csv = Path.Combine(studyDir, CsvFile), md = Path.Combine(studyDir, MarkdownFile);
        ResultFiles.WriteCsv(csv, header, raw);
        var sb = new StringBuilder();
        sb.Append("# Study ").Append(plan.Spec.Name).Append("\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"{rows.Count(r => r.Outcome.Status == RunStatus.Done)} done, {rows.Count(r => r.Outcome.Status == RunStatus.Diverged)} diverged, {rows.Count(r => r.Outcome.Status == RunStatus.Failed)} failed, {rows.Count(r => r.Outcome.Status == RunStatus.Pending)} pending of {rows.Count} runs. {plan.Command.ResultsNote}\n\n");
        sb.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        sb.Append('|').AppendJoin("|", header.Select(_ => "---")).Append("|\n");
        foreach (var row in raw) sb.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
        Directory.CreateDirectory(studyDir);
        AtomicFile.WriteAllText(md, sb.ToString());
        return [csv, md];
    }

    private static string Cell(object? v) => v switch
    {
        null => "",
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => (v.ToString() ?? "").Replace("|", "\\|"),
    };
}
