using System.Diagnostics;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>What one generation wrote.</summary>
/// <param name="PaperPath">The paper.md that was rewritten (or created).</param>
/// <param name="CreatedSkeleton">True when the folder had no paper.md and a skeleton listing every generated item was written.</param>
/// <param name="RemovedStale">Files under figures/, tables/ or data/ that an earlier run wrote and this one did not, now deleted.</param>
public sealed record PaperRun(PaperResults Results, string OutDir, string PaperPath, bool CreatedSkeleton, IReadOnlyList<string> RemovedStale);

/// <summary>
/// Produces a paper folder: runs the paper's experiments (figures under figures/, tables under tables/, plotted data
/// under data/), writes results.json, then rewrites the generated blocks of paper.md from results.json. Every file is
/// written atomically, so an interrupted run leaves each file either old or new, never half-written.
/// </summary>
public static class PaperGenerator
{
    /// <summary>The paper's Markdown.</summary>
    public const string PaperFile = "paper.md";
    /// <summary>The paper's numbers, tables, figures, command and scale.</summary>
    public const string ResultsFile = "results.json";
    /// <summary>PNG and SVG figures.</summary>
    public const string FiguresFolder = "figures";
    /// <summary>CSV tables shown in the paper.</summary>
    public const string TablesFolder = "tables";
    /// <summary>CSV of every figure's plotted points.</summary>
    public const string DataFolder = "data";

    /// <summary>Where the committed studies a paper reads are, relative to the current directory, unless told otherwise.</summary>
    public const string DefaultStudiesFolder = "studies";

    private static readonly string[] OwnedFolders = [FiguresFolder, TablesFolder, DataFolder];

    /// <summary>
    /// Runs paper <paramref name="id"/> at <paramref name="scale"/> into <paramref name="outDir"/>, recording
    /// <paramref name="command"/> (see <see cref="PaperCatalog.CommandLine"/>) as the command that produced it. A paper
    /// that quotes a committed study reads it from <paramref name="studiesFolder"/> (default <see cref="DefaultStudiesFolder"/>).
    /// </summary>
    public static PaperRun Generate(string id, PaperScale scale, string outDir, string command, Action<string>? log = null, string? studiesFolder = null)
    {
        var paper = PaperCatalog.Find(id);
        if (string.IsNullOrWhiteSpace(command)) throw new ArgumentException("PaperGenerator: the command that produces the paper must be given; it is recorded in results.json.", nameof(command));
        // A paper.md whose markers are malformed is reported before minutes of experiments, not after.
        string paperPath = Path.Combine(outDir, PaperFile);
        if (File.Exists(paperPath)) PaperMarkdown.Blocks(File.ReadAllText(paperPath));
        foreach (var folder in OwnedFolders) Directory.CreateDirectory(Path.Combine(outDir, folder));

        var context = new PaperContext(outDir, scale, log, studiesFolder ?? DefaultStudiesFolder);
        var watch = Stopwatch.StartNew();
        paper.Run(context);
        var results = context.Results(paper, command, watch.Elapsed.TotalSeconds);
        results.Save(Path.Combine(outDir, ResultsFile));
        var removed = RemoveStale(outDir, context.WrittenFiles);
        bool skeleton = !File.Exists(paperPath);
        RenderInto(paperPath, results);
        return new PaperRun(results, outDir, paperPath, skeleton, removed);
    }

    /// <summary>
    /// Rewrites the generated blocks of <c>{outDir}/paper.md</c> from <c>{outDir}/results.json</c> without running
    /// anything (after editing the prose or adding a marker); writes the skeleton if paper.md is missing.
    /// </summary>
    public static PaperRun Render(string outDir)
    {
        var results = PaperResults.Load(Path.Combine(outDir, ResultsFile));
        string paperPath = Path.Combine(outDir, PaperFile);
        bool skeleton = !File.Exists(paperPath);
        RenderInto(paperPath, results);
        return new PaperRun(results, outDir, paperPath, skeleton, []);
    }

    private static void RenderInto(string paperPath, PaperResults results)
    {
        string text = File.Exists(paperPath) ? PaperMarkdown.Render(File.ReadAllText(paperPath), results) : PaperMarkdown.Skeleton(results);
        AtomicFile.WriteAllText(paperPath, text);
    }

    // Figures or tables a paper no longer produces would otherwise linger next to the current ones and be committed.
    private static List<string> RemoveStale(string outDir, IReadOnlyCollection<string> written)
    {
        var keep = new HashSet<string>(written, StringComparer.Ordinal);
        var removed = new List<string>();
        foreach (var folder in OwnedFolders)
            foreach (var file in Directory.GetFiles(Path.Combine(outDir, folder)))
            {
                string relative = folder + "/" + Path.GetFileName(file);
                if (keep.Contains(relative) || !(file.EndsWith(".png", StringComparison.Ordinal) || file.EndsWith(".svg", StringComparison.Ordinal) || file.EndsWith(".csv", StringComparison.Ordinal))) continue;
                File.Delete(file);
                removed.Add(relative);
            }
        return removed;
    }
}
