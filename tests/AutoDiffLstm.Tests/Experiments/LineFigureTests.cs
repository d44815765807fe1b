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

    [Fact]
    public void TheDefaultLegendIsUpperRight() => Assert.Equal(ScottPlot.Alignment.UpperRight, TwoSeries().Render().Legend.Alignment);
}
