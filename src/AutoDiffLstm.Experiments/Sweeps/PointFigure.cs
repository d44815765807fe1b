using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>One set of markers of a <see cref="PointFigure"/>, optionally with vertical error bars.</summary>
public sealed record PointSeries(string Label, double[] X, double[] Y, double[]? YError = null);

/// <summary>
/// A scatter chart of study results described as data (like <see cref="Figures.LineFigure"/>, so tests can read what
/// was plotted) and rendered with ScottPlot to PNG and SVG. Categorical x axes (one position per variant) get their
/// names as tick labels.
/// </summary>
public sealed record PointFigure(string Title, string XLabel, string YLabel, IReadOnlyList<PointSeries> Series)
{
    /// <summary>Names of the x positions 0, 1, 2, ... for a categorical axis (null: numeric axis).</summary>
    public IReadOnlyList<string>? XCategories { get; init; }

    /// <summary>Draw each point as a bar from zero (with its error bar) instead of a marker.</summary>
    public bool Bars { get; init; }

    /// <summary>Pixel size of the rendered images.</summary>
    public (int Width, int Height) Size { get; init; } = (900, 560);

    /// <summary>Writes <c>{basePath}.png</c> and <c>{basePath}.svg</c> atomically; returns both paths.</summary>
    public IReadOnlyList<string> Save(string basePath) => FigureFiles.Save(Render(), basePath, Size);

    internal ScottPlot.Plot Render()
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var s in Series)
        {
            var color = palette.GetColor(i++);
            var finite = Enumerable.Range(0, s.X.Length).Where(k => double.IsFinite(s.X[k]) && double.IsFinite(s.Y[k])).ToArray();
            if (finite.Length == 0) continue;
            double[] xs = finite.Select(k => s.X[k]).ToArray(), ys = finite.Select(k => s.Y[k]).ToArray();
            if (Bars)
            {
                var bars = plot.Add.Bars(finite.Select(k => new ScottPlot.Bar
                {
                    Position = s.X[k], Value = s.Y[k], Error = s.YError is double[] e && double.IsFinite(e[k]) ? e[k] : 0, FillColor = color,
                }).ToList());
                bars.LegendText = s.Label;
                continue;
            }
            var markers = plot.Add.ScatterPoints(xs, ys, color);
            markers.LegendText = s.Label;
            markers.MarkerSize = s.YError is null ? 6 : 9;
            if (s.YError is double[] err)
            {
                var bars = plot.Add.ErrorBar(xs, ys, finite.Select(k => double.IsFinite(err[k]) ? err[k] : 0).ToArray());
                bars.Color = color;
                bars.LineWidth = 2;
            }
        }
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        if (XCategories is { } names)
        {
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, names.Count).Select(k => (double)k).ToArray(), names.ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = names.Any(n => n.Length > 6) ? 30 : 0;
            plot.Axes.Bottom.TickLabelStyle.Alignment = names.Any(n => n.Length > 6) ? ScottPlot.Alignment.MiddleLeft : ScottPlot.Alignment.UpperCenter;
            plot.Axes.SetLimitsX(-0.6, names.Count - 0.4);
        }
        if (Series.Count > 1) plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        return plot;
    }
}
