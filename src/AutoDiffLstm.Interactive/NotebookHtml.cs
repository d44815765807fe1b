using System.Globalization;
using System.Net;
using AutoDiffLstm.Experiments.Figures;

namespace AutoDiffLstm.Interactive;

/// <summary>
/// The HTML and text that <see cref="AutoDiffLstmKernelExtension"/> hands the kernel, kept free of any .NET Interactive
/// type so that tests can call it without a kernel.
/// </summary>
public static class NotebookHtml
{
    /// <summary>The text/plain stand-in of a figure (what a front end without images shows): title and series.</summary>
    public static string FigureText(LineFigure figure) =>
        $"LineFigure \"{figure.Title}\": {string.Join(", ", figure.Series.Select(s => $"{s.Label} ({s.X.Length} points)"))}";

    /// <summary>
    /// A gradient-check report as a two-column table: verdict, mode, number compared, largest errors, the worst comparison
    /// (where, analytic, numeric) and any warnings.
    /// </summary>
    public static string GradCheck(GradCheckReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = CultureInfo.InvariantCulture;
        var worst = report.Worst;
        string where = worst.Input < 0
            ? $"direction {worst.Index}"
            : $"d output[{worst.OutputIndex}] / d input {worst.Input}[{worst.Index}]";
        var rows = new List<(string, string)>
        {
            ("result", report.Passed ? "passed" : "FAILED"),
            ("mode", report.Mode.ToString()),
            ("compared", report.Compared.ToString(c)),
            ("max absolute error", report.MaxAbsoluteError.ToString("G3", c)),
            ("max relative error", report.MaxRelativeError.ToString("G3", c)),
            ("worst at", where),
            ("analytic", worst.Analytic.ToString("G10", c)),
            ("numeric", worst.Numeric.ToString("G10", c)),
        };
        rows.AddRange(report.Warnings.Select(w => ("warning", w)));
        var html = new System.Text.StringBuilder("<table class=\"adl-gradcheck\">");
        html.Append("<thead><tr><th colspan=\"2\" style=\"text-align:left\">GradCheck</th></tr></thead><tbody>");
        foreach (var (name, value) in rows)
            html.Append("<tr><td style=\"text-align:left\">").Append(Encode(name)).Append("</td><td style=\"text-align:left\">")
                .Append(Encode(value)).Append("</td></tr>");
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>
    /// A tensor as its own summary (element type, shape, gradient status, values with long dimensions elided; see
    /// <c>Tensor.ToString</c>) in a preformatted block, so the nesting of the values stays readable.
    /// </summary>
    public static string Tensor(TensorBase tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return $"<pre class=\"adl-tensor\">{Encode(tensor.ToString() ?? "")}</pre>";
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
