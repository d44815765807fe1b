namespace AutoDiffLstm;

/// <summary>
/// The calling thread's scratch arrays for kernels (Gemm's packed panels, gathered lines): rented for the length of one
/// call, at least as long as asked for, and kept for the next call.
/// </summary>
/// <remarks>
/// Not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: that pool empties itself after every gen-2 collection, and our
/// packed panels are up to 4 MB, so the next product allocated them again on the large-object heap, which brought the
/// next gen-2 collection closer. Profiled at W3 (float LSTM, T = 100, B = 8, H = 32) in forward mode with blocking
/// collection, 2026-12-06: a third of the process's samples were the pool's trimming callback and the fresh large
/// allocations after it. A thread holds at most <see cref="MaxKept"/> arrays here; they live as long as the thread.
/// </remarks>
internal static class Scratch<T> where T : unmanaged
{
    /// <summary>Arrays one thread keeps: Gemm holds three at once (panel of B, block of A, edge tile).</summary>
    private const int MaxKept = 4;

    [ThreadStatic] private static T[]?[]? kept;

    /// <summary>An array of at least <paramref name="length"/> elements with arbitrary contents.</summary>
    public static T[] Rent(int length)
    {
        var free = kept ??= new T[MaxKept][];
        int best = -1;
        for (int i = 0; i < free.Length; i++)
            if (free[i] is { } a && a.Length >= length && (best < 0 || a.Length < free[best]!.Length)) best = i;
        if (best < 0) return GC.AllocateUninitializedArray<T>(length);
        var array = free[best]!;
        free[best] = null;
        return array;
    }

    /// <summary>Gives <paramref name="array"/> back for the next <see cref="Rent"/> of this thread; the smallest kept one makes room when all slots are full.</summary>
    public static void Return(T[] array)
    {
        var free = kept ??= new T[MaxKept][];
        int slot = -1;
        for (int i = 0; i < free.Length; i++)
        {
            if (free[i] is null) { slot = i; break; }
            if (free[i]!.Length < array.Length && (slot < 0 || free[i]!.Length < free[slot]!.Length)) slot = i;
        }
        if (slot >= 0) free[slot] = array;
    }

    /// <summary>Number of arrays this thread keeps (tests).</summary>
    internal static int KeptCount => kept is null ? 0 : kept.Count(a => a is not null);
}
