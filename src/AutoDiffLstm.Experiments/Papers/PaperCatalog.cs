namespace AutoDiffLstm.Experiments.Papers;

/// <summary>The papers by id, and the command line that regenerates each.</summary>
public static class PaperCatalog
{
    /// <summary>The command every paper's command line starts with (run from the repository root).</summary>
    public const string CommandPrefix = "dotnet run -c Release --project src/AutoDiffLstm.Cli -- paper";

    /// <summary>Every paper, in a stable order.</summary>
    public static IReadOnlyList<IPaper> All { get; } = [new GradientFlowPaper(), new LstmVariantsPaper(), new ModernRecurrencesPaper(), new SecondOrderAndOnlinePaper()];

    /// <summary>The ids of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Ids { get; } = All.Select(p => p.Id).ToArray();

    /// <summary>The paper called <paramref name="id"/> (case-insensitive); unknown ids throw listing the valid ones.</summary>
    public static IPaper Find(string id) =>
        All.FirstOrDefault(p => p.Id.Equals(id?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown paper '{id}'. Valid papers: {string.Join(", ", Ids)}.");

    /// <summary>The default output folder of a paper, relative to the repository root: papers/&lt;id&gt;.</summary>
    public static string DefaultOut(string id) => "papers/" + Find(id).Id;

    /// <summary>
    /// The command line that produces paper <paramref name="id"/> at <paramref name="scale"/> into <paramref name="outDir"/>
    /// (null or the default folder: the option is left out), reading committed studies from <paramref name="studiesFolder"/>
    /// (likewise), e.g. <c>dotnet run -c Release --project src/AutoDiffLstm.Cli -- paper gradient-flow</c>.
    /// </summary>
    public static string CommandLine(string id, PaperScale scale, string? outDir = null, string? studiesFolder = null)
    {
        string canonical = Find(id).Id, command = CommandPrefix + " " + canonical;
        if (scale != PaperScale.Full) command += " --scale " + PaperScales.Name(scale);
        if (outDir is not null && NormalisedRelative(outDir) != DefaultOut(canonical)) command += " --out " + Quote(outDir);
        if (studiesFolder is not null && NormalisedRelative(studiesFolder) != PaperGenerator.DefaultStudiesFolder) command += " --studies " + Quote(studiesFolder);
        return command;
    }

    // "papers/x", "./papers/x/" and "papers\x" all name the default folder.
    private static string NormalisedRelative(string path)
    {
        string p = path.Replace('\\', '/').TrimEnd('/');
        while (p.StartsWith("./", StringComparison.Ordinal)) p = p[2..];
        return p;
    }

    private static string Quote(string s) => s.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '$' or '`' or '\\' or '&' or ';' or '|')
        ? "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : s;
}
