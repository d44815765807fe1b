using System.Globalization;
using AutoDiffLstm.Experiments.Output;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// The figures of a study: per case, the quality of each grid point (variant) with every run as a point and the best
/// setting's mean and standard deviation over seeds; and per random-search option, quality against its value.
/// Quality is <see cref="StudyRow.Quality"/> (lower is better; for train runs final held-out loss / chance).
/// </summary>
public static class StudyFigures
{
    /// <summary>The figures folder under the study directory.</summary>
    public const string Folder = "figures";

    /// <summary>Quality per grid point for case <paramref name="caseIndex"/>.</summary>
    public static PointFigure PerVariant(StudyPlan plan, IReadOnlyList<StudyRow> rows, int caseIndex)
    {
        var inCase = rows.Where(r => r.Run.CaseIndex == caseIndex && r.Quality is not null).ToArray();
        var variants = plan.Runs.Where(r => r.CaseIndex == caseIndex).Select(r => r.GridIndex).Distinct().Order().ToArray();
        var names = variants.Select(g => plan.GridLabel(plan.Runs.First(r => r.CaseIndex == caseIndex && r.GridIndex == g))).ToArray();
        var allX = new List<double>();
        var allY = new List<double>();
        var bestX = new List<double>();
        var bestY = new List<double>();
        var bestErr = new List<double>();
        for (int v = 0; v < variants.Length; v++)
        {
            var runs = inCase.Where(r => r.Run.GridIndex == variants[v]).ToArray();
            int count = runs.Length;
            // A small fixed offset per run keeps points of equal quality apart without randomness.
            for (int k = 0; k < count; k++) { allX.Add(v - 0.2 + 0.4 * (k + 0.5) / count); allY.Add(runs[k].Quality!.Value); }
            var best = runs.GroupBy(r => r.Run.SampleIndex).Select(g => g.Select(r => r.Quality!.Value).ToArray()).OrderBy(q => q.Average()).FirstOrDefault();
            if (best is null) continue;
            bestX.Add(v);
            bestY.Add(best.Average());
            bestErr.Add(StandardDeviation(best));
        }
        string label = plan.Spec.Samples > 0 ? "best setting: mean +- sd over seeds" : "mean +- sd over seeds";
        return new PointFigure($"{plan.Spec.Name}: {plan.CaseLabel(caseIndex)}", "variant", plan.Command.Metric.Axis,
            [new PointSeries("every run", [.. allX], [.. allY]), new PointSeries(label, [.. bestX], [.. bestY], [.. bestErr])]) { XCategories = names };
    }

    /// <summary>Quality against random-search option <paramref name="option"/>, one series per case (log10 of the value for log-uniform options).</summary>
    public static PointFigure AgainstOption(StudyPlan plan, IReadOnlyList<StudyRow> rows, string option)
    {
        bool log = plan.Space.First(d => d.Option == option).Distribution.LogScale;
        var series = Enumerable.Range(0, plan.Spec.Cases.Count).Select(c =>
        {
            var points = rows.Where(r => r.Run.CaseIndex == c && r.Quality is not null && Numeric(r.Run.Value(option)) is not null).ToArray();
            return new PointSeries(plan.CaseLabel(c),
                points.Select(r => log ? Math.Log10(Numeric(r.Run.Value(option))!.Value) : Numeric(r.Run.Value(option))!.Value).ToArray(),
                points.Select(r => r.Quality!.Value).ToArray());
        }).ToArray();
        return new PointFigure($"{plan.Spec.Name}: quality against {option}", log ? $"log10 {option}" : option, plan.Command.Metric.Axis, series);
    }

    /// <summary>Writes every figure (PNG, SVG) and its points (CSV) under <c>{studyDir}/figures</c>; returns the paths.</summary>
    public static IReadOnlyList<string> Write(StudyPlan plan, IReadOnlyList<StudyRow> rows, string studyDir)
    {
        var files = new List<string>();
        string dir = Path.Combine(studyDir, Folder);
        void Save(string name, PointFigure f)
        {
            files.AddRange(f.Save(Path.Combine(dir, name)));
            string csv = Path.Combine(dir, name + ".csv");
            ResultFiles.WriteCsv(csv, ["series", "x", "y", "y_error"],
                f.Series.SelectMany(s => s.X.Select((x, k) => (IReadOnlyList<object?>)[s.Label, x, s.Y[k], s.YError?[k]])));
            files.Add(csv);
        }
        for (int c = 0; c < plan.Spec.Cases.Count; c++) Save(plan.Spec.Cases.Count == 1 ? "quality" : $"quality-case{c}", PerVariant(plan, rows, c));
        foreach (var (option, d) in plan.Space)
            if (d is not Distribution.Choice || d.Endpoints.All(v => Numeric(v) is not null)) Save($"quality-vs-{option}", AgainstOption(plan, rows, option));
        return files;
    }

    internal static double? Numeric(object? v) => v switch
    {
        long l => l,
        double d => d,
        int i => i,
        ulong u => u,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) => p,
        _ => null,
    };

    /// <summary>Sample standard deviation (0 for fewer than two values).</summary>
    internal static double StandardDeviation(double[] v)
    {
        if (v.Length < 2) return 0;
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }
}
