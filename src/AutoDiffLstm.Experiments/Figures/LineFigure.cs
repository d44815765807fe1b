using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Figures;

/// <summary>Where a <see cref="LineFigure"/> puts its legend.</summary>
public enum LegendCorner
{
    /// <summary>Outside the plot area, to its right (the default): it can hide no data, whatever the curves do.</summary>
    Outside,
    /// <summary>Top right, inside the plot area.</summary>
    UpperRight,
    /// <summary>Top left.</summary>
    UpperLeft,
    /// <summary>Bottom right.</summary>
    LowerRight,
    /// <summary>Bottom left.</summary>
    LowerLeft,
}

/// <summary>One named curve of a <see cref="LineFigure"/>; later series are drawn over earlier ones.</summary>
public sealed record Series(string Label, double[] X, double[] Y)
{
    /// <summary>Mark every point (for few measured points drawn over a reference line).</summary>
    public bool Markers { get; init; }
}

/// <summary>
/// A line chart described as data (so tests and papers can read what was plotted) and rendered with ScottPlot to PNG and
/// SVG. With <see cref="LogY"/> the values are plotted as log10, which turns exponential vanishing or growth into
/// straight lines; the axis is labelled at decades when the data span several, and at 1-2-5 steps (or finer) when they
/// stay within about a decade, so that at least three ticks always carry a value (see <see cref="LogTicks"/>).
/// </summary>
public sealed record LineFigure(string Title, string XLabel, string YLabel, bool LogY, IReadOnlyList<Series> Series)
{
    /// <summary>Pixel size of the rendered images.</summary>
    public (int Width, int Height) Size { get; init; } = (900, 560);

    /// <summary>Where the legend goes (shown when there is more than one series): outside the plot area unless a corner is chosen.</summary>
    public LegendCorner Legend { get; init; } = LegendCorner.Outside;

    /// <summary>Writes <c>{basePath}.png</c> and <c>{basePath}.svg</c> atomically; returns both paths.</summary>
    public IReadOnlyList<string> Save(string basePath) => FigureFiles.Save(Render(), basePath, Size);

    /// <summary>The figure as PNG bytes; notebooks show it with <c>display(figure)</c>, which looks for this method.</summary>
    public byte[] ToPng() => Render().GetImageBytes(Size.Width, Size.Height, ScottPlot.ImageFormat.Png);

    /// <summary>The figure as an SVG document (the notebook extension offers it beside the PNG).</summary>
    public string ToSvg() => Render().GetSvgXml(Size.Width, Size.Height);

    internal ScottPlot.Plot Render()
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var s in Series)
        {
            var (xs, ys) = LogY ? LogPoints(s) : (s.X, s.Y);
            if (xs.Length == 0) continue;
            var line = plot.Add.ScatterLine(xs, ys, palette.GetColor(i++));
            line.LegendText = s.Label;
            line.LineWidth = 2;
            if (s.Markers) { line.MarkerSize = 8; line.MarkerShape = ScottPlot.MarkerShape.FilledCircle; }
        }
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(LogY ? YLabel + " (log scale)" : YLabel);
        if (LogY)
        {
            var logs = Series.SelectMany(s => LogPoints(s).Y).ToArray();
            var ticks = logs.Length == 0 ? [] : LogTicks(logs.Min(), logs.Max());
            if (ticks.Count >= 3)
            {
                var manual = new ScottPlot.TickGenerators.NumericManual();
                foreach (var (position, label) in ticks) manual.AddMajor(position, label);
                plot.Axes.Left.TickGenerator = manual;
                // The axis spans the ticks, so none of them falls outside the view and goes unlabelled.
                double lo = Math.Min(logs.Min(), ticks[0].Position), hi = Math.Max(logs.Max(), ticks[^1].Position), pad = (hi - lo) * 0.04;
                plot.Axes.SetLimitsY(lo - pad, hi + pad);
            }
            else
            {
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    IntegerTicksOnly = true,
                    LabelFormatter = v => $"1e{v:0}",
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                };
            }
        }
        if (Series.Count <= 1) plot.HideLegend();
        else if (Legend == LegendCorner.Outside) plot.ShowLegend(ScottPlot.Edge.Right);
        else if (Series.Count > 1)
        {
            plot.ShowLegend(Legend switch
            {
                LegendCorner.UpperLeft => ScottPlot.Alignment.UpperLeft,
                LegendCorner.LowerRight => ScottPlot.Alignment.LowerRight,
                LegendCorner.LowerLeft => ScottPlot.Alignment.LowerLeft,
                _ => ScottPlot.Alignment.UpperRight,
            });
        }
        return plot;
    }

    /// <summary>
    /// Labelled ticks (at log10 positions) for a log axis whose data run from 10^<paramref name="lo"/> to
    /// 10^<paramref name="hi"/>: every decade when that gives at least three (plus the decades just outside the data),
    /// else 1-2-5 steps, else 1..9 steps, else five evenly spaced values: a curve that moves within one decade would
    /// otherwise sit between two decade ticks, or none, and the axis would carry no number at all.
    /// </summary>
    public static IReadOnlyList<(double Position, string Label)> LogTicks(double lo, double hi)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi) || hi < lo) return [];
        int first = (int)Math.Floor(lo), last = (int)Math.Ceiling(hi);
        if (last - first >= 3)
        {
            // At most about ten labels: every second or third decade when the data span dozens.
            int stride = Math.Max(1, (int)Math.Ceiling((last - first) / 10.0));
            int start = (int)Math.Floor(first / (double)stride) * stride, end = (int)Math.Ceiling(last / (double)stride) * stride;
            return Enumerable.Range(0, (end - start) / stride + 1).Select(i => start + i * stride).Select(k => ((double)k, $"1e{k}")).ToArray();
        }
        foreach (int[] mantissas in new[] { new[] { 1, 2, 5 }, [1, 2, 3, 4, 5, 6, 7, 8, 9] })
        {
            var ticks = new List<(double, string)>();
            // One step beyond each end, so the labels bracket the data.
            for (int k = first - 1; k <= last; k++)
                foreach (int m in mantissas)
                {
                    double position = Math.Log10(m) + k;
                    ticks.Add((position, Format(m * Math.Pow(10, k))));
                }
            var inside = ticks.Where(t => t.Item1 >= lo - 1e-9 && t.Item1 <= hi + 1e-9).ToList();
            if (inside.Count >= 3)
            {
                // Add the neighbour on each side so the data do not touch the frame without a label.
                var below = ticks.Where(t => t.Item1 < lo - 1e-9).Cast<(double, string)?>().LastOrDefault();
                var above = ticks.Where(t => t.Item1 > hi + 1e-9).Cast<(double, string)?>().FirstOrDefault();
                if (below is { } b && inside.Count < 6) inside.Insert(0, b);
                if (above is { } a && inside.Count < 7) inside.Add(a);
                return inside;
            }
        }
        // Data within less than a factor of about 1.5: five values across the range, with enough digits to differ.
        // (A constant series gets a band of about 10% around it.)
        double span = Math.Max(hi - lo, 0.04);
        double from = lo - span * 0.25, step = span * 1.5 / 4;
        return Enumerable.Range(0, 5).Select(i => from + i * step).Select(p => (p, Format(Math.Pow(10, p), significant: 4))).ToArray();
    }

    /// <summary>A tick value in few characters: 0.02, 5, 300, 2e-05 -> "2e-5".</summary>
    private static string Format(double v, int significant = 3)
    {
        double exponent = Math.Floor(Math.Log10(v));
        if (exponent is >= -3 and < 5) return v.ToString("G" + significant, System.Globalization.CultureInfo.InvariantCulture);
        double mantissa = v / Math.Pow(10, exponent);
        return mantissa.ToString("G" + (significant - 1), System.Globalization.CultureInfo.InvariantCulture) + "e" + exponent.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>log10 of the positive, finite points; zeros (complete vanishing) and NaN cannot be drawn on a log axis and are left out.</summary>
    private static (double[] X, double[] Y) LogPoints(Series s)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int k = 0; k < s.Y.Length; k++)
            if (s.Y[k] > 0 && double.IsFinite(s.Y[k])) { xs.Add(s.X[k]); ys.Add(Math.Log10(s.Y[k])); }
        return (xs.ToArray(), ys.ToArray());
    }
}
