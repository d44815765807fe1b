namespace AutoDiffLstm;

/// <summary>Parts of a buffer as (offset, length) pairs.</summary>
internal static class Ranges
{
    /// <summary>The parts in offset order, adjacent ones joined: a few clears where there would be one per slot.</summary>
    public static (int Offset, int Length)[] Merged(IEnumerable<(int Offset, int Length)> parts)
    {
        var merged = new List<(int Offset, int Length)>();
        foreach (var (offset, length) in parts.OrderBy(p => p.Offset))
        {
            if (merged.Count > 0 && merged[^1].Offset + merged[^1].Length == offset) merged[^1] = (merged[^1].Offset, merged[^1].Length + length);
            else merged.Add((offset, length));
        }
        return [.. merged];
    }
}
