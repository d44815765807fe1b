using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Figures;

/// <summary>Where a <see cref="LineFigure"/> puts its legend.</summary>
public enum LegendCorner
{
    /// <summary>Top right (the default).</summary>
    UpperRight,
    /// <summary>Top left.</summary>
    UpperLeft,
    /// <summary>Bottom right.</summary>
    LowerRight,
    /// <summary>Bottom left.</summary>
    LowerLeft,
}

/// <summary>One named curve of a <see cref="LineFigure"/>.</summary>
public sealed record Series(string Label, double[] X, double[] Y);

/// <summary>
/// A line chart described as data (so tests and papers can read what was plotted) and rendered with ScottPlot to PNG and
/// SVG. With <see cref="LogY"/> the values are plotted as log10 with decade tick labels, which turns exponential
/// vanishing or growth into straight lines.
/// </summary>
public sealed record LineFigure(string Title, string XLabel, string YLabel, bool LogY, IReadOnlyList<Series> Series)
{
    /// <summary>Pixel size of the rendered images.</summary>
    public (int Width, int Height) Size { get; init; } = (900, 560);

    /// <summary>The corner of the legend (shown when there is more than one series); move it off the curves it would hide.</summary>
    public LegendCorner Legend { get; init; } = LegendCorner.UpperRight;

    /// <summary>Writes <c>{basePath}.png</c> and <c>{basePath}.svg</c> atomically; returns both paths.</summary>
    public IReadOnlyList<string> Save(string basePath)
    {
        var plot = Render();
        string png = basePath + ".png", svg = basePath + ".svg";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(png))!);
        AtomicFile.WriteAllBytes(png, plot.GetImageBytes(Size.Width, Size.Height, ScottPlot.ImageFormat.Png));
        AtomicFile.WriteAllText(svg, plot.GetSvgXml(Size.Width, Size.Height));
        return [png, svg];
    }

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
        }
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(LogY ? YLabel + " (log scale)" : YLabel);
        if (LogY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                LabelFormatter = v => $"1e{v:0}",
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            };
        }
        if (Series.Count > 1)
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
