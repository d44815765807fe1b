using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Figures;

/// <summary>How every figure of the project is written: a PNG and an SVG beside it, each atomically.</summary>
internal static class FigureFiles
{
    /// <summary>Writes <c>{basePath}.png</c> and <c>{basePath}.svg</c>; returns both paths.</summary>
    public static IReadOnlyList<string> Save(ScottPlot.Plot plot, string basePath, (int Width, int Height) size)
    {
        string png = basePath + ".png", svg = basePath + ".svg";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(png))!);
        AtomicFile.WriteAllBytes(png, plot.GetImageBytes(size.Width, size.Height, ScottPlot.ImageFormat.Png));
        AtomicFile.WriteAllText(svg, plot.GetSvgXml(size.Width, size.Height));
        return [png, svg];
    }
}
