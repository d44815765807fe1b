using System.Globalization;
using System.Text;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>The hyper-parameter importance of one case of a study, or why it was not computed.</summary>
public sealed record CaseImportance(int CaseIndex, string Case, AnovaResult? Result, string? Problem);

/// <summary>
/// Hyper-parameter importance of a study, per case, as Greff et al. (2017) did: functional ANOVA over a random-forest
/// surrogate of the runs' quality (<see cref="FunctionalAnova"/>, Hutter et al. 2014). The hyper-parameters are the
/// grid options (categorical, each value equally likely) and the random-search options over the domain they are drawn
/// from (the log of a log-uniform option; an integer range as the interval [low - 1/2, high + 1/2)). The seed is not a
/// hyper-parameter: the spread between seeds stays in the variance no effect explains.
/// </summary>
public static class StudyImportance
{
    /// <summary>The importance table, CSV.</summary>
    public const string CsvFile = "importance.csv";
    /// <summary>The importance table, Markdown.</summary>
    public const string MarkdownFile = "importance.md";

    /// <summary>The pair interactions reported per case (the largest).</summary>
    public const int TopPairs = 3;

    /// <summary>The hyper-parameters of the study as forest features, with a function that codes a run's value.</summary>
    public static IReadOnlyList<(ForestFeature Feature, Func<PlannedRun, double> Code)> Features(StudyPlan plan)
    {
        var features = new List<(ForestFeature, Func<PlannedRun, double>)>();
        foreach (var (option, values) in plan.Spec.Grid)
        {
            if (values.Count < 2) continue;
            var names = values.Select(Distribution.Show).ToArray();
            features.Add((ForestFeature.Categorical(option, names), r => Array.IndexOf(names, Distribution.Show(r.Value(option)!))));
        }
        foreach (var (option, d) in plan.Space)
        {
            double Number(PlannedRun r) => StudyFigures.Numeric(r.Value(option)) ?? double.NaN;
            switch (d)
            {
                case Distribution.LogUniform l:
                    features.Add((ForestFeature.Numeric($"log10 {option}", Math.Log10(l.Low), Math.Log10(l.High)), r => Math.Log10(Number(r))));
                    break;
                case Distribution.Uniform u:
                    features.Add((ForestFeature.Numeric(option, u.Low, u.High), Number));
                    break;
                case Distribution.IntRange i when i.High > i.Low:
                    features.Add((ForestFeature.Numeric(option, i.Low - 0.5, i.High + 0.5), Number));
                    break;
                case Distribution.Choice c when c.Values.Count > 1:
                    var names = c.Values.Select(Distribution.Show).ToArray();
                    features.Add((ForestFeature.Categorical(option, names), r => Array.IndexOf(names, Distribution.Show(r.Value(option)!))));
                    break;
            }
        }
        return features;
    }

    /// <summary>The importance of every case from the runs with a quality (done or diverged).</summary>
    public static IReadOnlyList<CaseImportance> Compute(StudyPlan plan, IReadOnlyList<StudyRow> rows, ForestOptions? options = null)
    {
        var features = Features(plan);
        var result = new List<CaseImportance>();
        for (int c = 0; c < plan.Spec.Cases.Count; c++)
        {
            string label = plan.CaseLabel(c);
            if (features.Count == 0) { result.Add(new CaseImportance(c, label, null, "nothing varies but the seed (no grid or random-search option with two values or more)")); continue; }
            var scored = rows.Where(r => r.Run.CaseIndex == c && r.Quality is not null).ToArray();
            var x = scored.Select(r => features.Select(f => f.Code(r.Run)).ToArray()).ToArray();
            var y = scored.Select(r => r.Quality!.Value).ToArray();
            try { result.Add(new CaseImportance(c, label, FunctionalAnova.Decompose(features.Select(f => f.Feature).ToArray(), x, y, options), null)); }
            catch (ArgumentException e) { result.Add(new CaseImportance(c, label, null, e.Message)); }
        }
        return result;
    }

    /// <summary>
    /// Computes the importance and writes <c>importance.csv</c>, <c>importance.md</c> and a bar figure per case under
    /// <c>figures/</c> into <paramref name="dir"/>; adds the paths to <paramref name="files"/>.
    /// </summary>
    public static IReadOnlyList<CaseImportance> Write(StudyPlan plan, IReadOnlyList<StudyRow> rows, string dir, List<string> files)
    {
        var cases = Compute(plan, rows);
        string csv = Path.Combine(dir, CsvFile), md = Path.Combine(dir, MarkdownFile);
        ResultFiles.WriteCsv(csv, ["case", "effect", "kind", "fraction", "spread", "trees", "runs"], cases.Where(c => c.Result is not null)
            .SelectMany(c => Reported(c.Result!).Select(e => (IReadOnlyList<object?>)[c.Case, e.Effect.Name, e.Kind, e.Effect.Fraction, e.Effect.Spread, c.Result!.Trees, c.Result.Points])));
        AtomicFile.WriteAllText(md, Markdown(plan, cases));
        files.Add(csv);
        files.Add(md);
        foreach (var c in cases.Where(c => c.Result is not null))
            files.AddRange(Figure(plan, c).Save(Path.Combine(dir, StudyFigures.Folder, plan.Spec.Cases.Count == 1 ? "importance" : $"importance-case{c.CaseIndex}")));
        return cases;
    }

    /// <summary>The effects shown: every main effect, then the <see cref="TopPairs"/> largest pair interactions.</summary>
    public static IEnumerable<(AnovaEffect Effect, string Kind)> Reported(AnovaResult r) =>
        r.Main.Select(e => (e, "main")).Concat(r.Pairs.Take(TopPairs).Select(e => (e, "interaction")));

    /// <summary>A bar per reported effect (share of variance, mean over trees) with the standard deviation over trees.</summary>
    public static PointFigure Figure(StudyPlan plan, CaseImportance c)
    {
        var effects = Reported(c.Result!).ToArray();
        double[] x = Enumerable.Range(0, effects.Length).Select(k => (double)k).ToArray();
        return new PointFigure($"{plan.Spec.Name}: {c.Case}: hyper-parameter importance (fANOVA, {c.Result!.Trees} trees)", "effect",
            $"share of the variance of {plan.Command.Metric.Phrase}", [new PointSeries("mean +- sd over trees", x, effects.Select(e => e.Effect.Fraction).ToArray(), effects.Select(e => e.Effect.Spread).ToArray())])
        { XCategories = effects.Select(e => e.Effect.Name).ToArray(), Bars = true };
    }

    private static string Markdown(StudyPlan plan, IReadOnlyList<CaseImportance> cases)
    {
        var sb = new StringBuilder();
        sb.Append("# Hyper-parameter importance: ").Append(plan.Spec.Name).Append("\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Functional ANOVA over a random-forest surrogate of {plan.Command.Metric.Phrase} (Hutter et al. 2014): each effect's share of the variance, mean and standard deviation over the trees. Interactions are the largest pairs beyond their main effects; the rest (seeds, higher orders) is unexplained.\n\n");
        foreach (var c in cases)
        {
            sb.Append("## ").Append(c.Case).Append("\n\n");
            if (c.Result is null) { sb.Append("Not computed: ").Append(c.Problem).Append("\n\n"); continue; }
            sb.Append(CultureInfo.InvariantCulture, $"{c.Result.Points} runs, {c.Result.Trees} trees.\n\n| effect | kind | share | sd over trees |\n|---|---|---:|---:|\n");
            foreach (var (e, kind) in Reported(c.Result))
                sb.Append(CultureInfo.InvariantCulture, $"| {e.Name} | {kind} | {e.Fraction:P1} | {e.Spread:P1} |\n");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
