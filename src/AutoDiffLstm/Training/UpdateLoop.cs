using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AutoDiffLstm.Training;

/// <summary>
/// One optimizer's elementwise update written once, on SIMD vectors: <c>p</c> is the parameter, <c>g</c> the gradient,
/// <c>s1</c>..<c>s3</c> up to three state buffers (zero vectors where unused), all updated in place.
/// </summary>
internal interface IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> s1, ref Vector<T> s2, ref Vector<T> s3);
}

/// <summary>Drives an <see cref="IUpdateRule{T}"/> over whole vectors, then over the tail through zero-padded stack copies.</summary>
internal static class UpdateLoop
{
    /// <summary>
    /// Applies <paramref name="rule"/> to every element. Each state span is either empty (unused) or as long as the
    /// parameter. Padding lanes of the last partial vector may compute garbage (e.g. 0/0); they are never stored.
    /// </summary>
    public static void Run<T, TRule>(in TRule rule, Span<T> p, ReadOnlySpan<T> g, Span<T> s1, Span<T> s2, Span<T> s3)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, IUpdateRule<T>
    {
        int n = p.Length, w = Vector<T>.Count, i = 0;
        bool has1 = !s1.IsEmpty, has2 = !s2.IsEmpty, has3 = !s3.IsEmpty;
        ref T rp = ref MemoryMarshal.GetReference(p);
        ref T rg = ref MemoryMarshal.GetReference(g);
        ref T r1 = ref MemoryMarshal.GetReference(s1);
        ref T r2 = ref MemoryMarshal.GetReference(s2);
        ref T r3 = ref MemoryMarshal.GetReference(s3);
        for (; i <= n - w; i += w)
        {
            var vp = Vector.LoadUnsafe(ref rp, (nuint)i);
            var vg = Vector.LoadUnsafe(ref rg, (nuint)i);
            var v1 = has1 ? Vector.LoadUnsafe(ref r1, (nuint)i) : Vector<T>.Zero;
            var v2 = has2 ? Vector.LoadUnsafe(ref r2, (nuint)i) : Vector<T>.Zero;
            var v3 = has3 ? Vector.LoadUnsafe(ref r3, (nuint)i) : Vector<T>.Zero;
            rule.Apply(ref vp, vg, ref v1, ref v2, ref v3);
            vp.StoreUnsafe(ref rp, (nuint)i);
            if (has1) v1.StoreUnsafe(ref r1, (nuint)i);
            if (has2) v2.StoreUnsafe(ref r2, (nuint)i);
            if (has3) v3.StoreUnsafe(ref r3, (nuint)i);
        }
        if (i < n) Tail(rule, p[i..], g[i..], has1 ? s1[i..] : default, has2 ? s2[i..] : default, has3 ? s3[i..] : default);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tail<T, TRule>(in TRule rule, Span<T> p, ReadOnlySpan<T> g, Span<T> s1, Span<T> s2, Span<T> s3)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, IUpdateRule<T>
    {
        int w = Vector<T>.Count, n = p.Length;
        Span<T> buf = stackalloc T[5 * w];
        buf.Clear();
        Span<T> bp = buf[..w], bg = buf.Slice(w, w), b1 = buf.Slice(2 * w, w), b2 = buf.Slice(3 * w, w), b3 = buf.Slice(4 * w, w);
        p.CopyTo(bp); g.CopyTo(bg);
        if (!s1.IsEmpty) s1.CopyTo(b1);
        if (!s2.IsEmpty) s2.CopyTo(b2);
        if (!s3.IsEmpty) s3.CopyTo(b3);
        var vp = new Vector<T>(bp);
        var v1 = new Vector<T>(b1);
        var v2 = new Vector<T>(b2);
        var v3 = new Vector<T>(b3);
        rule.Apply(ref vp, new Vector<T>(bg), ref v1, ref v2, ref v3);
        vp.CopyTo(bp); v1.CopyTo(b1); v2.CopyTo(b2); v3.CopyTo(b3);
        bp[..n].CopyTo(p);
        if (!s1.IsEmpty) b1[..n].CopyTo(s1);
        if (!s2.IsEmpty) b2[..n].CopyTo(s2);
        if (!s3.IsEmpty) b3[..n].CopyTo(s3);
    }
}
