using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Interactive;

namespace AutoDiffLstm.Tests.Notebooks;

/// <summary>What the kernel extension shows for the engine's types (the registration itself is exercised by KernelNotebookTests).</summary>
public class NotebookHtmlTests
{
    [Fact]
    public void AGradCheckReportIsATableWithVerdictErrorsAndTheWorstComparison()
    {
        var x = Tensor.FromArray([0.5, -1.0, 2.0], 3);
        var report = GradCheck.Check<double>(t => (t * t).Sum(), x);
        string html = NotebookHtml.GradCheck(report);

        Assert.StartsWith("<table class=\"adl-gradcheck\">", html);
        Assert.Contains("<td style=\"text-align:left\">result</td><td style=\"text-align:left\">passed</td>", html);
        Assert.Contains($"<td style=\"text-align:left\">mode</td><td style=\"text-align:left\">{report.Mode}</td>", html);
        Assert.Contains($"<td style=\"text-align:left\">compared</td><td style=\"text-align:left\">{report.Compared}</td>", html);
        Assert.Contains("max absolute error", html);
        Assert.Contains("worst at", html);
        Assert.EndsWith("</tbody></table>", html);
    }

    [Fact]
    public void AFailedCheckSaysSoAndWarningsGetARowEach()
    {
        var report = new GradCheckReport
        {
            Passed = false, Mode = GradCheckMode.FullJacobian, Compared = 4, MaxAbsoluteError = 0.5, MaxRelativeError = 0.25,
            Worst = new GradCheckEntry(0, 2, 1, 1.5, 1.0), Warnings = ["float <inputs>"], Tolerance = new GradCheckOptions(), WorstAllowed = 1e-5,
        };
        string html = NotebookHtml.GradCheck(report);
        Assert.Contains(">FAILED<", html);
        Assert.Contains(">d output[1] / d input 0[2]<", html);
        Assert.Contains("<td style=\"text-align:left\">warning</td><td style=\"text-align:left\">float &lt;inputs&gt;</td>", html);
    }

    [Fact]
    public void ATensorShowsItsOwnSummaryPreformatted()
    {
        var t = Tensor.FromArray([1.0f, 2, 3, 4], 2, 2);
        Assert.Equal($"<pre class=\"adl-tensor\">{System.Net.WebUtility.HtmlEncode(t.ToString())}</pre>", NotebookHtml.Tensor(t));
        Assert.StartsWith("<pre class=\"adl-tensor\">Tensor&lt;float&gt; [2, 2]", NotebookHtml.Tensor(t));
    }

    [Fact]
    public void AFigureHasATextFallbackNamingItsSeriesAndAnSvgForm()
    {
        var figure = new LineFigure("loss", "step", "mse", false, [new Series("lstm", [0.0, 1.0], [1.0, 0.5])]) { Size = (64, 48) };
        Assert.Equal("LineFigure \"loss\": lstm (2 points)", NotebookHtml.FigureText(figure));
        Assert.Contains("<svg", figure.ToSvg());
    }
}
