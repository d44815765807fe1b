namespace AutoDiffLstm;

public sealed partial class Tape
{
    /// <summary>
    /// Forward mode over recorded operations [from, to): each entry whose inputs carry a tangent gets its output's
    /// tangent from its rule's JVP. Recording order is topological, so one pass in order suffices.
    /// </summary>
    internal void PushTangents(int from, int to, Tangents tangents)
    {
        for (int i = from; i < to; i++)
        {
            var e = entries[i]; // a copy: a recording rule may grow (and so move) the entry array
            if (!tangents.AnyInput(e)) continue;
            var t = e.Rule.Jvp(e, tangents);
            if (t is not null) tangents.Set(e.Output, t, e.Rule.Name);
        }
    }

    /// <summary>
    /// Reverse mode as tensor operations from <paramref name="root"/> with cotangent <paramref name="seed"/>: every
    /// entry's rule adds its inputs' cotangents with the engine's own operations, which are recorded on this tape when
    /// gradients are enabled (so the result is differentiable), and left unrecorded otherwise. Cotangents of tensors in
    /// <paramref name="keep"/> survive the walk; the others are dropped once consumed.
    /// </summary>
    internal Cotangents PullCotangents(TensorBase root, TensorBase seed, IReadOnlySet<TensorBase> keep)
    {
        if (root.OwnerTape != this || !Holds(root)) throw FreedTape();
        var sink = new Cotangents();
        sink.AddAny(root, seed);
        for (int i = root.TapeIndex; i >= 0; i--)
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
