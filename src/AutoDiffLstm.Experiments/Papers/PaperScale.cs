namespace AutoDiffLstm.Experiments.Papers;

/// <summary>How large a paper's experiments are.</summary>
public enum PaperScale
{
    /// <summary>The sizes the committed paper reports (minutes).</summary>
    Full,
    /// <summary>Reduced sizes with the same outputs (the same figures, tables and result keys), so tests can run every paper in seconds.</summary>
    Ci,
}

/// <summary>The scale names used on the command line and in results.json.</summary>
public static class PaperScales
{
    /// <summary>"full" or "ci".</summary>
    public static string Name(PaperScale scale) => scale == PaperScale.Ci ? "ci" : "full";

    /// <summary>Reads "full" or "ci" (case-insensitive); anything else throws naming the valid values.</summary>
    public static PaperScale Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "full" => PaperScale.Full,
        "ci" => PaperScale.Ci,
        _ => throw new ArgumentException($"Paper scale '{text}' is not known: expected 'full' or 'ci'."),
    };
}
