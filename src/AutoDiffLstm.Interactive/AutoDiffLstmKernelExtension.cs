using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Notebooks;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace AutoDiffLstm.Interactive;

/// <summary>
/// Loaded by the .NET Interactive kernel from the package's <c>interactive-extensions/dotnet/</c> folder when a notebook
/// runs <c>#r "nuget: AutoDiffLstm.Experiments, …"</c>. Registers formatters so that <c>display(x)</c> (and a cell's last
/// expression) shows figures as images, tables as HTML tables, tensors as a summary and gradient checks as a table,
/// instead of the kernel's default object tree.
/// </summary>
public sealed class AutoDiffLstmKernelExtension : IKernelExtension
{
    /// <summary>The MIME type Jupyter front ends read as SVG.</summary>
    public const string Svg = "image/svg+xml";

    /// <inheritdoc />
    public Task OnLoadAsync(Kernel kernel)
    {
        // Jupyter's image/png is base64 text; the formatter writes exactly that.
        Formatter.Register<LineFigure>((figure, writer) => writer.Write(Convert.ToBase64String(figure.ToPng())), DisplayFormatter.Png);
        Formatter.Register<LineFigure>((figure, writer) => writer.Write(figure.ToSvg()), Svg);
        Formatter.Register<LineFigure>((figure, writer) => writer.Write(NotebookHtml.FigureText(figure)), DisplayFormatter.PlainText);
        // One display_data carries every preferred type; front ends pick the richest they render (SVG in VS Code and
        // JupyterLab, PNG where SVG is not shown, e.g. GitHub's viewer), and tests look for image/png.
        Formatter.SetPreferredMimeTypesFor(typeof(LineFigure), DisplayFormatter.Png, Svg, DisplayFormatter.PlainText);

        Formatter.Register<TextTable>((table, writer) => writer.Write(table.ToHtml()), DisplayFormatter.Html);
        Formatter.Register<TextTable>((table, writer) => writer.Write(table.ToString()), DisplayFormatter.PlainText);
        Formatter.SetPreferredMimeTypesFor(typeof(TextTable), DisplayFormatter.Html, DisplayFormatter.PlainText);

        Formatter.Register<GradCheckReport>((report, writer) => writer.Write(NotebookHtml.GradCheck(report)), DisplayFormatter.Html);
        Formatter.Register<GradCheckReport>((report, writer) => writer.Write(report.ToString()), DisplayFormatter.PlainText);
        Formatter.SetPreferredMimeTypesFor(typeof(GradCheckReport), DisplayFormatter.Html, DisplayFormatter.PlainText);

        // Registered on the non-generic base so that Tensor<float> and Tensor<double> both match.
        foreach (var tensorType in new[] { typeof(TensorBase), typeof(Tensor<float>), typeof(Tensor<double>) })
        {
            Formatter.Register(tensorType, (value, writer) => writer.Write(NotebookHtml.Tensor((TensorBase)value)), DisplayFormatter.Html);
            Formatter.Register(tensorType, (value, writer) => writer.Write(value.ToString()), DisplayFormatter.PlainText);
            Formatter.SetPreferredMimeTypesFor(tensorType, DisplayFormatter.Html, DisplayFormatter.PlainText);
        }
        return Task.CompletedTask;
    }
}
