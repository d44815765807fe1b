namespace AutoDiffLstm;

/// <summary>
/// The list of recorded operations of the current thread, in execution order. Recording order is already a topological
/// order, so backward is a single loop from the end: no sort, no recursion (a 10,000-step unrolled LSTM is fine).
/// </summary>
/// <remarks>
/// Each thread has its own tape (<see cref="Current"/>). <c>Backward</c> consumes the tape: it is reset afterwards unless
/// <c>retainGraph</c> is passed (also when it throws), and a second backward through a freed tape throws, as does a
/// backward that reaches a tensor recorded before the tape was freed (Detach such tensors to carry values across).
/// Forward passes that are not followed by backward (evaluation) should run under <see cref="Autograd.NoGrad"/>, or call
/// <see cref="Reset"/>, so that the tape does not grow without bound.
/// <para>
/// Memory: operation outputs and gradients take their arrays from a per-thread pool of free buffers keyed by exact
/// size. Always, and invisibly: an intermediate's gradient goes back to the pool as soon as backward has consumed it
/// (it is never visible to user code unless <see cref="Tensor{T}.RetainGrad"/> was called; leaf and retained
/// gradients are never pooled), as do the temporaries of backward rules. Forward values are recycled only inside the
/// opt-in <see cref="ReuseBuffers"/> scope, which is what makes a steady-state training loop allocate almost nothing.
/// </para>
/// </remarks>
public sealed partial class Tape
{
    [ThreadStatic] private static Tape? current;

    private TapeEntry[] entries = new TapeEntry[256];
    private int count;
    private int releasable; // recorded outputs whose storage goes back to the pool at the next reset

    /// <summary>The tape of the calling thread.</summary>
    public static Tape Current => current ??= new Tape();

    /// <summary>Number of recorded operations.</summary>
    public int Count => count;

    /// <summary>Incremented by every reset; tensors recorded in an earlier generation can no longer be differentiated.</summary>
    public long Generation { get; private set; }

    /// <summary>
    /// Forgets every recorded operation (call between training iterations if you did not call backward). Outputs
    /// recorded under <see cref="ReuseBuffers"/> give their storage back to the pool here and become invalid.
    /// </summary>
    public void Reset()
    {
        if (releasable > 0)
        {
            for (int i = 0; i < count; i++) entries[i].Output.ReleaseStorage();
            releasable = 0;
        }
        Array.Clear(entries, 0, count);
        count = 0;
        Generation++;
    }

    /// <summary>
    /// Gives the calling thread a fresh tape until the returned scope is disposed, then restores its own, so that a tool
    /// which records and runs backward passes (GradCheck) neither frees nor extends the caller's graph.
    /// </summary>
    /// <remarks>
    /// On the private tape, tensors that the caller's graph produced are constants: backward does not treat them as
    /// freed, and the tool must restore whatever gradient backward writes into them (see <see cref="RecordedExternalInputs"/>).
    /// </remarks>
    internal static Autograd.Scope UsePrivateTape()
    {
        var saved = current;
        var tape = spareTapes is { Count: > 0 } ? spareTapes.Pop() : new Tape { foreignInputsAreConstants = true };
        current = tape;
        return new Autograd.Scope(() =>
        {
            current = saved;
            // A checkpointed pass opens two private tapes per segment and iteration; reusing them (and their grown
            // entry arrays) keeps a checkpointed training loop from allocating a tape's worth of entries per segment.
            // Only an empty one is reused: its Generation has moved on, so nothing recorded on it earlier is mistaken
            // for a tensor of its next use.
            if (tape.count == 0) (spareTapes ??= new()).Push(tape);
        });
    }

    [ThreadStatic] private static Stack<Tape>? spareTapes;

    /// <summary>While positive, every operation is recorded, whatever the grad mode and its inputs: a trace captures the whole graph (see <see cref="Tracing"/>).</summary>
    [ThreadStatic] internal static int tracing;

    /// <summary>The recorded operations [0, Count), for a trace to read.</summary>
    internal ReadOnlySpan<TapeEntry> Entries => entries.AsSpan(0, count);

    private bool foreignInputsAreConstants;

    /// <summary>The distinct tensors read by the recorded operations that this tape did not produce: leaves and tensors of other graphs.</summary>
    internal IEnumerable<TensorBase> RecordedExternalInputs()
    {
        var seen = new HashSet<TensorBase>(TensorIdentity.Instance);
        for (int i = 0; i < count; i++)
            foreach (var t in entries[i].Inputs())
                if ((t.IsLeaf || !Holds(t)) && seen.Add(t)) yield return t;
    }

    /// <summary>Each recorded operation's output with its inputs, in recording order (for counting what the tape keeps alive).</summary>
    internal IEnumerable<(TensorBase Output, TensorBase[] Inputs)> Operations()
    {
        for (int i = 0; i < count; i++) yield return (entries[i].Output, entries[i].Inputs().ToArray());
    }

    /// <summary>The output of recorded operation <paramref name="index"/> (tests check buffer ownership through it).</summary>
    internal TensorBase RecordedOutput(int index) => entries[index].Output;

    /// <summary>Names of the recorded operations in order, for inspection in notebooks.</summary>
    public IReadOnlyList<string> OperationNames()
    {
        var names = new string[count];
        for (int i = 0; i < count; i++) names[i] = entries[i].Rule.Name;
        return names;
    }

    internal static bool ShouldRecord(TensorBase a) => Autograd.IsGradEnabled && a.RequiresGrad;
    internal static bool ShouldRecord(TensorBase a, TensorBase b) => Autograd.IsGradEnabled && (a.RequiresGrad || b.RequiresGrad);
    internal static bool ShouldRecord(TensorBase a, TensorBase b, TensorBase c) => Autograd.IsGradEnabled && (a.RequiresGrad || b.RequiresGrad || c.RequiresGrad);

    /// <summary>
    /// Records <paramref name="output"/> = rule(inputs) when gradients are enabled and any input requires one, and in
    /// anomaly mode checks the output for NaN/Inf. Every primitive ends with one call to this, so it is also where an
    /// input whose storage was recycled is caught, and where an output recorded under <see cref="ReuseBuffers"/> is
    /// marked to give its storage back at the next reset (only an output that owns it: a view shares its source's).
    /// </summary>
    internal static void Record(IBackwardRule rule, TensorBase output, TensorBase? a, TensorBase? b = null, TensorBase? c = null,
        object? aux = null, int i0 = 0, int i1 = 0, int i2 = 0, double d0 = 0, double d1 = 0, object? extra = null)
    {
        var many = aux as TensorBase[];
        if ((a?.IsRecycled ?? false) || (b?.IsRecycled ?? false) || (c?.IsRecycled ?? false) || (many is not null && AnyRecycled(many)))
            throw RecycledInput(rule.Name);
        if (Autograd.AnomalyDetectionEnabled) Autograd.CheckForward(rule.Name, output, a, b, c);
        if (!Autograd.IsGradEnabled && tracing == 0) return;
        bool any = tracing > 0 || (a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false);
        if (!any && many is not null)
            foreach (var t in many) any |= t.RequiresGrad;
        if (!any) return;
        var tape = Current;
        if (tape.count == tape.entries.Length) Array.Resize(ref tape.entries, tape.count * 2);
        int index = tape.count++;
        tape.entries[index] = new TapeEntry { Rule = rule, Output = output, A = a, B = b, C = c, Aux = aux, Extra = extra, I0 = i0, I1 = i1, I2 = i2, D0 = d0, D1 = d1 };
        output.OwnerTape = tape;
        output.TapeGeneration = tape.Generation;
        output.TapeIndex = index;
        output.MarkRequiresGrad();
        if (reuseDepth > 0 && output.EngineOwnsStorage)
        {
            output.ReleaseAtReset = true;
            tape.releasable++;
        }
    }

    /// <summary>
    /// Marks a just-recorded output whose storage nothing outside the engine can reach (a compiled sequence's saved
    /// values) to go back to the pool at the next reset, under <see cref="ReuseBuffers"/> or not: a pass recorded
    /// outside that scope would otherwise leave a T-step buffer to the collector.
    /// </summary>
    internal static void ReleasePrivateStorageAtReset(TensorBase output)
    {
        if (output.ReleaseAtReset || !output.EngineOwnsStorage || output.OwnerTape is not { } tape) return;
        output.ReleaseAtReset = true;
        tape.releasable++;
    }

    private static bool AnyRecycled(TensorBase[] tensors)
    {
        foreach (var t in tensors)
            if (t.IsRecycled) return true;
        return false;
    }

    private static InvalidOperationException RecycledInput(string op) => new(
        $"{op}: an input was computed under Tape.ReuseBuffers and the tape has been reset since, so its storage was recycled. " +
        "Use tensors of the current iteration, or Detach() a tensor before the reset to carry its values across iterations.");

    internal static void BackwardFrom<T>(Tensor<T> root, Tensor<T> seed, bool retainGraph)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var tape = root.OwnerTape!;
        if (tape != current || !tape.Holds(root)) throw FreedTape();
        var entries = tape.entries;
        // The loss is what callers read after backward: keep its values even under ReuseBuffers.
        root.KeepStorage();
        // A retained gradient from an earlier pass (retainGraph) must not be propagated again: park it, let this pass
        // build its own, then add the two (so the retained gradient accumulates as a leaf's does).
        List<TensorBase>? parked = null;
        for (int i = 0; i <= root.TapeIndex; i++)
            if (entries[i].Output.RetainsGradient && entries[i].Output.HasGrad)
                (parked ??= []).Add(entries[i].Output.ParkGrad());
        bool completed = false;
        // Parameters do not change during backward: each is packed once for all the products that read it.
        using var packed = PackedOperands.Open();
        using var weightGradients = WeightGradientBatch.Open();
        try
        {
            root.GradSink().Add(seed.AsSpan());
            for (int i = root.TapeIndex; i >= 0; i--)
            {
                ref readonly var e = ref entries[i];
                if (!e.Output.HasGrad) continue; // nothing flowed into this op's output
                tape.ThrowIfAnyInputIsStale(in e);
                e.Rule.Backward(in e);
                if (Autograd.AnomalyDetectionEnabled) Autograd.CheckBackward(e, i);
                e.Output.DropIntermediateGrad(); // consumed: every reader of this output came later on the tape
            }
            weightGradients.Complete();
            completed = true;
        }
        finally
        {
            // After a failure (anomaly, freed input) half-propagated gradients must not leak into a later pass.
            if (!completed)
                for (int i = 0; i <= root.TapeIndex; i++) entries[i].Output.DropIntermediateGrad();
            if (parked is not null) foreach (var t in parked) t.UnparkGrad();
            if (!retainGraph) tape.Reset();
        }
    }

    /// <summary>Whether <paramref name="t"/> was recorded on this tape since its last reset.</summary>
    private bool Holds(TensorBase t) => t.OwnerTape == this && t.TapeGeneration == Generation;

    // An input produced by an operation of a freed tape would silently absorb the gradient meant for its own inputs.
    private void ThrowIfAnyInputIsStale(in TapeEntry e)
    {
        if (IsStale(e.A) || IsStale(e.B) || IsStale(e.C)) throw FreedTape();
        if (e.Aux is TensorBase[] many)
            foreach (var t in many) if (IsStale(t)) throw FreedTape();
    }

    private bool IsStale(TensorBase? t) => t is not null && !t.IsLeaf && !Holds(t) && !foreignInputsAreConstants;

    private static InvalidOperationException FreedTape() => new(
        "Backward: the tape that recorded this tensor (or one of the tensors it was computed from) has already been freed " +
        "(by an earlier Backward or Tape.Reset). Pass retainGraph: true to the first Backward to call it twice, recompute " +
        "the forward pass, or Detach() a tensor that should carry values but no gradient across iterations.");
}
