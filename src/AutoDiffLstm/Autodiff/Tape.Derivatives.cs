namespace AutoDiffLstm;

public sealed partial class Tape
{
    /// <summary>
    /// Forward mode over recorded operations [from, to): each entry whose inputs carry a tangent gets its output's
    /// tangent from its rule's JVP. Recording order is topological, so one pass in order suffices.
    /// </summary>
    /// <param name="keep">
    /// When given, the tangents the caller reads afterwards (of these values); every other value's tangent is released
    /// right after the last entry that lists the value among its inputs (<see cref="Tangents.Release"/>), so its storage
    /// serves the tangents computed after it. Null keeps every tangent.
    /// </param>
    internal void PushTangents(int from, int to, Tangents tangents, IReadOnlySet<TensorBase>? keep = null)
    {
        int[]? lastRead = keep is null ? null : LastReads(from, to);
        if (lastRead is not null) tangents.TrackStorage();
        // Parameters and seeds do not change while tangents are pushed: a recurrent weight (and its tangent) is packed
        // once for the products of every step, as in the forward pass and in backward.
        using var packed = PackedOperands.Open();
        for (int i = from; i < to; i++)
        {
            var e = entries[i]; // a copy: a recording rule may grow (and so move) the entry array
            if (tangents.AnyInput(e))
            {
                var t = e.Rule.Jvp(e, tangents);
                if (t is not null) tangents.Set(e.Output, t, e.Rule.Name);
            }
            if (lastRead is null) continue;
            foreach (var x in e.Inputs())
                if (IndexIn(x, from, to) is int k && lastRead[k - from] == i && !keep!.Contains(x)) tangents.Release(x);
            if (lastRead[i - from] < 0 && !keep!.Contains(e.Output)) tangents.Release(e.Output); // nothing reads it
        }
    }

    /// <summary>For each entry of [from, to), the last entry of the range that reads its output, or -1.</summary>
    private int[] LastReads(int from, int to)
    {
        var last = new int[to - from];
        Array.Fill(last, -1);
        for (int i = from; i < to; i++)
            foreach (var x in entries[i].Inputs())
                if (IndexIn(x, from, to) is int k) last[k - from] = i;
        return last;
    }

    /// <summary>The index of the entry that recorded <paramref name="t"/>, when it is one of [from, to) on this tape.</summary>
    private int? IndexIn(TensorBase t, int from, int to) =>
        Holds(t) && t.TapeIndex >= from && t.TapeIndex < to && ReferenceEquals(entries[t.TapeIndex].Output, t) ? t.TapeIndex : null;

    /// <summary>
    /// Reverse mode as tensor operations from <paramref name="root"/> with cotangent <paramref name="seed"/>: every
    /// entry's rule adds its inputs' cotangents with the engine's own operations, which are recorded on this tape when
    /// gradients are enabled (so the result is differentiable), and left unrecorded otherwise. Cotangents of tensors in
    /// <paramref name="keep"/> survive the walk; the others are dropped once consumed. The walk stops at entry
    /// <paramref name="from"/>: a rule that replayed its own operations walks only those.
    /// </summary>
    internal Cotangents PullCotangents(TensorBase root, TensorBase seed, IReadOnlySet<TensorBase> keep, int from = 0)
    {
        if (root.OwnerTape != this || !Holds(root)) throw FreedTape();
        var sink = new Cotangents();
        sink.AddAny(root, seed);
        for (int i = root.TapeIndex; i >= from; i--)
        {
            var e = entries[i]; // a copy: the rule records onto this tape and may grow it
            var dy = sink.Of(e.Output);
            if (dy is null) continue;
            ThrowIfAnyInputIsStale(in e);
            e.Rule.Vjp(e, dy, sink);
            if (!keep.Contains(e.Output)) sink.Drop(e.Output);
        }
        return sink;
    }
}
