using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// Packed copies of the parameters that products read as their right operand, kept while a scope is open, so that a
/// recurrence packs W_hh once per pass instead of once per time step.
/// </summary>
/// <remarks>
/// Why: the per-step products of a recurrence (h_{t-1} W_hh^T in forward, dgates W_hh in backward) have few rows, so
/// packing the 4H x H weight costs as much as multiplying by it; PyTorch's fused LSTM pays that cost at every step.
/// The scope is opened by <see cref="Recurrent.Unroll"/> around its time loop and by backward around its walk of the
/// tape: inside both, parameters (leaf tensors) cannot change, so a packed copy stays valid until the scope closes.
/// Only leaves are cached (<see cref="Gemm.Run"/>'s <c>constantB</c>): intermediates and gradient buffers are written
/// while the scope is open. As a second guard, an array given back to the <see cref="BufferPool{T}"/> drops its entry.
/// Per thread, like the tape; the packed arrays come from and go back to the buffer pool, so a steady-state training
/// loop allocates only the small entry records here.
/// </remarks>
internal static class PackedOperands
{
    [ThreadStatic] private static int depth;
    [ThreadStatic] private static List<Entry>? entries;

    private sealed record Entry(Array Source, int Offset, bool Trans, int K, int N, int SliverWidth, Array Packed);

    /// <summary>Packed copies held on this thread (tests).</summary>
    internal static int Count => entries?.Count ?? 0;

    /// <summary>Whether a scope is open on this thread.</summary>
    public static bool Active => depth > 0;

    /// <summary>Opens a scope (scopes nest); the packed copies are released when the outermost one is disposed.</summary>
    public static Autograd.Scope Open()
    {
        depth++;
        return new Autograd.Scope(static () =>
        {
            if (--depth == 0) ReleaseAll();
        });
    }

    /// <summary>The packed op(B) of this operand if it was packed earlier in the scope, else null.</summary>
    public static T[]? Find<T>(T[] b, int offset, bool trans, int k, int n, int sliverWidth) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (entries is null) return null;
        foreach (var e in entries)
            if (ReferenceEquals(e.Source, b) && e.Offset == offset && e.Trans == trans && e.K == k && e.N == n && e.SliverWidth == sliverWidth)
                return (T[])e.Packed;
        return null;
    }

    /// <summary>A pooled array of <paramref name="length"/> elements, kept as the packed op(B) of this operand; the caller fills it.</summary>
    public static T[] Add<T>(T[] b, int offset, bool trans, int k, int n, int sliverWidth, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var packed = BufferPool<T>.Rent(length);
        (entries ??= []).Add(new Entry(b, offset, trans, k, n, sliverWidth, packed));
        return packed;
    }

    /// <summary>Forgets any packed copy of <paramref name="array"/> (it is going back to the pool and will be reused).</summary>
    public static void Forget(Array array)
    {
        if (entries is not { Count: > 0 } list) return;
        for (int i = list.Count - 1; i >= 0; i--)
            if (ReferenceEquals(list[i].Source, array))
            {
                Release(list[i].Packed);
                list.RemoveAt(i);
            }
    }

    private static void ReleaseAll()
    {
        if (entries is null) return;
        foreach (var e in entries) Release(e.Packed);
        entries.Clear();
    }

    private static void Release(Array packed)
    {
        if (packed is float[] f) BufferPool<float>.Return(f);
        else if (packed is double[] d) BufferPool<double>.Return(d);
    }
}
