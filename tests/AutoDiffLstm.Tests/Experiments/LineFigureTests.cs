using AutoDiffLstm.Experiments.Figures;

namespace AutoDiffLstm.Tests.Experiments;

public class LineFigureTests
{
    private static LineFigure TwoSeries(LegendCorner? corner = null)
    {
        var figure = new LineFigure("t", "x", "y", LogY: true, [new Series("a", [0.0, 1.0], [1.0, 10.0]), new Series("b", [0.0, 1.0], [2.0, 0.5])]);
        return corner is LegendCorner c ? figure with { Legend = c } : figure;
    }

    [Theory]
    [InlineData(LegendCorner.UpperLeft, ScottPlot.Alignment.UpperLeft)]
    [InlineData(LegendCorner.LowerRight, ScottPlot.Alignment.LowerRight)]
    [InlineData(LegendCorner.LowerLeft, ScottPlot.Alignment.LowerLeft)]
    [InlineData(LegendCorner.UpperRight, ScottPlot.Alignment.UpperRight)]
    public void TheLegendGoesToTheChosenCorner(LegendCorner corner, ScottPlot.Alignment expected)
    {
        var plot = TwoSeries(corner).Render();
        Assert.True(plot.Legend.IsVisible);
        Assert.Equal(expected, plot.Legend.Alignment);
    }

    /// <summary>Outside the plot area the legend hides no data, whatever the curves do: the default for every figure.</summary>
    [Fact]
    public void TheDefaultLegendSitsOutsideThePlotArea()
    {
        var plot = TwoSeries().Render();
        Assert.False(plot.Legend.IsVisible, "the legend inside the data area is hidden");
        Assert.Contains(plot.Axes.GetPanels(), p => p is ScottPlot.Panels.LegendPanel);
    }

    [Fact]
    public void OneSeriesHasNoLegend()
    {
        var plot = new LineFigure("t", "x", "y", LogY: false, [new Series("a", [0.0, 1.0], [1.0, 2.0])]).Render();
        Assert.False(plot.Legend.IsVisible);
        Assert.DoesNotContain(plot.Axes.GetPanels(), p => p is ScottPlot.Panels.LegendPanel);
    }

    /// <summary>Data within one decade (0.156 to 0.169, as train-eval-loss.png) sit between two decade ticks: at least three labelled ticks instead.</summary>
    [Theory]
    [InlineData(0.156, 0.169)]
    [InlineData(0.02, 0.09)]
    [InlineData(3.0, 30.0)]
    [InlineData(1e-7, 1e-6)]
    [InlineData(1e-4, 1e2)]
    [InlineData(0.5, 0.5)]
    public void ALogAxisAlwaysLabelsAtLeastThreeTicksAroundTheData(double low, double high)
    {
        var ticks = LineFigure.LogTicks(Math.Log10(low), Math.Log10(high));
        Assert.True(ticks.Count >= 3, $"{ticks.Count} ticks for data from {low} to {high}: {string.Join(", ", ticks.Select(t => t.Label))}");
        Assert.Equal(ticks.Count, ticks.Select(t => t.Label).Distinct().Count());
        Assert.All(ticks, t => Assert.False(string.IsNullOrWhiteSpace(t.Label)));
        // Every label names the value at its position (to the precision it shows).
        Assert.All(ticks, t => Assert.Equal(Math.Pow(10, t.Position), double.Parse(t.Label, System.Globalization.CultureInfo.InvariantCulture), Math.Pow(10, t.Position) * 0.01));
        // The ticks reach the data: at least one at or below the lowest value's decade step and one above the highest.
        Assert.True(ticks.Min(t => t.Position) <= Math.Log10(low) + 1e-9 || ticks.Count(t => t.Position >= Math.Log10(low)) >= 3);
        Assert.True(ticks.Max(t => t.Position) >= Math.Log10(high) - 1e-9);
    }

    [Fact]
    public void ManyDecadesGetAboutTenLabelsNotOnePerDecade()
    {
        var ticks = LineFigure.LogTicks(-1.2, 22.3);
        Assert.InRange(ticks.Count, 3, 11);
        Assert.Equal(["1e-3", "1e0", "1e3"], ticks.Take(3).Select(t => t.Label));
        Assert.True(ticks[^1].Position >= 22.3);
    }

    [Fact]
    public void TheRenderedLogAxisCarriesTheTicksAndShowsThemAll()
    {
        var figure = new LineFigure("t", "step", "loss", LogY: true, [new Series("a", [0.0, 1.0, 2.0], [0.169, 0.160, 0.156])]);
        var plot = figure.Render();
        plot.GetImageBytes(900, 560, ScottPlot.ImageFormat.Png); // ticks are generated when the axis is drawn
        var manual = Assert.IsType<ScottPlot.TickGenerators.NumericManual>(plot.Axes.Left.TickGenerator);
        var limits = plot.Axes.GetLimits();
        var majors = manual.Ticks.Where(t => t.IsMajor).ToArray();
        var visible = majors.Where(t => t.Position >= limits.Bottom && t.Position <= limits.Top).ToArray();
        Assert.True(visible.Length >= 3, $"{visible.Length} of {majors.Length} major ticks inside the view [{limits.Bottom}, {limits.Top}]: {string.Join(", ", majors.Select(t => $"{t.Label}@{t.Position}"))}");
    }

    [Fact]
    public void MarkedSeriesAreDrawnWithMarkersInTheGivenOrder()
    {
        var plot = new LineFigure("t", "x", "y", LogY: false,
            [new Series("theory", [0.0, 1.0], [0.0, 1.0]), new Series("measured", [0.0, 0.5, 1.0], [0.0, 0.52, 1.0]) { Markers = true }]).Render();
        var lines = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToArray();
        Assert.Equal(["theory", "measured"], lines.Select(l => l.LegendText));
        Assert.Equal(0, lines[0].MarkerSize);
        Assert.True(lines[1].MarkerSize > 0);
    }
}
