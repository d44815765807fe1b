using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// Gradient checkpointing (rematerialisation): a segment of a computation runs without keeping its intermediate values
/// on the tape; only its outputs are recorded, and when backward reaches them the segment is run again from its inputs
/// on a private tape and differentiated there. Memory is traded for one extra forward pass of the segment.
/// </summary>
/// <remarks>
/// <para>
/// Why: backward needs the intermediate values of the forward pass, so a recurrent network unrolled over T steps holds
/// O(T) step activations (an LSTM step keeps about 25 numbers per hidden unit and sequence). Cutting the chain into
/// segments of k steps and keeping only each segment's inputs holds T/k boundary states, plus, during backward, the k
/// steps of the one segment being recomputed: T/k + k, smallest at k = sqrt(T), for one extra forward pass in total
/// (Chen, Xu, Zhang and Guestrin 2016, "Training deep nets with sublinear memory cost", arXiv:1604.06174, section 4).
/// The idea is Griewank's checkpointing for the reverse mode of automatic differentiation (Griewank 1992, "Achieving
/// logarithmic growth of temporal and spatial complexity in reverse automatic differentiation", Optimization Methods and
/// Software 1; Griewank and Walther 2000, "Algorithm 799: revolve", ACM TOMS 26), where nesting checkpoints recursively
/// reaches O(log T) memory; segments here nest too (a segment may itself call <see cref="Run{T}(Func{Tensor{T}[], Tensor{T}[]}, Tensor{T}[])"/>).
/// </para>
/// <para>
/// Recording: one entry on the caller's tape for the whole segment, whose inputs are the segment's inputs that require
/// a gradient and every tensor requiring a gradient that the segment read without receiving it as an input (captured
/// parameters; also intermediates of the caller's graph). The tape has one output per entry, so the outputs are
/// recorded as one extra entry each that reads a gradient-only tensor of the segment entry: the outputs keep the
/// segment's storage (no copies, unlike packing them into one tensor and slicing it, which would hold every output
/// twice), and each output's backward adds its gradient into its block of that gradient-only tensor, which the engine
/// then frees like any other intermediate gradient.
/// </para>
/// <para>
/// Backward of the segment: run it again on a private tape from fresh leaves sharing the inputs' values, check that the
/// outputs are the same bits as in forward (the segment must be deterministic), and back-propagate the outputs'
/// gradients through it. Captured leaves (parameters) receive their gradient directly from the recomputation; captured
/// intermediates of the caller's graph also do, and since they were recorded before the segment, the caller's backward
/// reaches them afterwards and carries their gradient on. An input's gradient so far is moved into its fresh leaf
/// before and back after: every gradient then receives the same additions in the same order as without checkpointing,
/// so gradients are bit-identical, not only equal to rounding.
/// </para>
/// <para>
/// Rules for the segment: deterministic (draw random numbers outside and pass or capture them); everything it produces
/// that is used later must be returned (a tensor leaked out through a side effect belongs to a discarded tape, and under
/// <see cref="Tape.ReuseBuffers"/> its storage is recycled as soon as the segment returns); no
/// <c>Backward</c> or <c>Tape.Reset</c> inside; side effects run twice (see <see cref="IsRecomputing"/>).
/// </para>
/// </remarks>
public static class GradientCheckpoint
{
    /// <summary>Segment length meaning "choose k = ceil(sqrt(T))" (<see cref="SegmentLength"/>), for options such as CheckpointEvery.</summary>
    public const int SqrtSteps = -1;

    [ThreadStatic] private static int recomputing;

    /// <summary>Test hook: sees each private tape of a segment complete (forward, and in backward just before it is differentiated), to count what it holds.</summary>
    [ThreadStatic] internal static Action<Tape>? SegmentTapeObserver;

    /// <summary>
    /// True while a segment runs again during backward: code with side effects (logging, gate monitors, counters)
    /// can skip them so that they happen once per forward pass.
    /// </summary>
    public static bool IsRecomputing => recomputing > 0;

    /// <summary>
    /// ceil(sqrt(steps)): T/k kept boundaries plus k recomputed steps is smallest at k = sqrt(T) (Chen et al. 2016).
    /// </summary>
    public static int SegmentLength(int steps)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), $"GradientCheckpoint.SegmentLength: the number of steps must be positive, got {steps}.");
        int k = (int)Math.Sqrt(steps);
        return k * k < steps ? k + 1 : k;
    }

    /// <summary>
    /// Runs <paramref name="segment"/> on <paramref name="inputs"/> recording only its outputs; backward recomputes it.
    /// Outputs that are the same tensor come back as the same tensor. Under <see cref="Autograd.NoGrad"/> the segment
    /// simply runs.
    /// </summary>
    /// <param name="segment">A deterministic function of its inputs (and of tensors it captures, e.g. parameters).</param>
    /// <param name="inputs">The tensors handed to the segment (e.g. the state entering a run of time steps).</param>
    public static Tensor<T>[] Run<T>(Func<Tensor<T>[], Tensor<T>[]> segment, params Tensor<T>[] inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"GradientCheckpoint.Run: input {i} of {inputs.Length} is null.");
        if (!Autograd.IsGradEnabled) return CheckedSegment<T>.Validate(segment(inputs));
        return new CheckedSegment<T>(segment, inputs).Forward();
    }

    /// <summary>Single-output form of <see cref="Run{T}(Func{Tensor{T}[], Tensor{T}[]}, Tensor{T}[])"/>.</summary>
    public static Tensor<T> Run<T>(Func<Tensor<T>[], Tensor<T>> segment, params Tensor<T>[] inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(segment);
        return Run<T>(xs => [segment(xs)], inputs)[0];
    }

    internal static Autograd.Scope Recomputing()
    {
        recomputing++;
        return new Autograd.Scope(static () => recomputing--);
    }
}

/// <summary>One call of <see cref="GradientCheckpoint.Run{T}(Func{Tensor{T}[], Tensor{T}[]}, Tensor{T}[])"/>: what backward needs to run it again.</summary>
internal sealed class CheckedSegment<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const string Op = "GradientCheckpoint";
    private readonly Func<Tensor<T>[], Tensor<T>[]> function;
    private readonly Tensor<T>[] originals;   // the distinct inputs
    private readonly int[] inputSlot;         // inputs[i] is originals[inputSlot[i]]
    private HashSet<TensorBase> captured = null!; // tensors requiring a gradient read without being an input
    private int[] outputSlot = null!;         // the i-th returned tensor is outputs[outputSlot[i]]
    private Tensor<T>[] outputs = null!;      // the distinct outputs, as handed out
    private int[] offsets = null!;            // block of each output in the token's gradient; -1: no gradient
    private bool[] reached = null!;           // a gradient arrived at output j in this backward pass
    private Tensor<T> token = null!;

    // The segment entry's Aux holds its parents (so that the engine checks them for freed tapes and anomalies and
    // GradCheck finds them), so its rule finds the segment through the entry's output instead; weakly, so that a
    // freed tape frees its segments.
    private static readonly ConditionalWeakTable<TensorBase, CheckedSegment<T>> byToken = new();

    /// <summary>The segment whose entry produced <paramref name="token"/>.</summary>
    internal static CheckedSegment<T> Of(TensorBase token) =>
        byToken.TryGetValue(token, out var segment) ? segment : throw new InvalidOperationException($"{Op}: no segment is registered for this tape entry.");

    public CheckedSegment(Func<Tensor<T>[], Tensor<T>[]> function, Tensor<T>[] inputs)
    {
        this.function = function;
        var distinct = new List<Tensor<T>>();
        inputSlot = new int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            int at = distinct.FindIndex(t => ReferenceEquals(t, inputs[i]));
            if (at < 0) { at = distinct.Count; distinct.Add(inputs[i]); }
            inputSlot[i] = at; // an input given twice gets one leaf, so its gradient is moved in and out once
        }
        originals = [.. distinct];
    }

    public Tensor<T>[] Forward()
    {
        var leaves = FreshLeaves();
        Tensor<T>[] produced, distinct;
        using (Tape.UsePrivateTape())
        {
            // Recorded (and then dropped) only to learn which tensors the segment reads that require a gradient.
            var tape = Tape.Current;
            produced = Call(tape, leaves);
            captured = Reads(tape, leaves, produced);
            GradientCheckpoint.SegmentTapeObserver?.Invoke(tape);
            distinct = Distinct(produced, out outputSlot);
            outputs = distinct.Select(TakeOver).ToArray();
            // The segment's intermediates are dead (backward recomputes them): under Tape.ReuseBuffers their storage
            // goes back to the pool now instead of to the garbage collector, so a checkpointed training loop reuses
            // it as a plain one does.
            tape.Reset();
        }
        offsets = new int[distinct.Length];
        reached = new bool[distinct.Length];
        int size = 0;
        for (int j = 0; j < distinct.Length; j++)
        {
            offsets[j] = distinct[j].RequiresGrad ? size : -1;
            if (distinct[j].RequiresGrad) size += distinct[j].Size;
        }
        var parents = originals.Where(t => t.RequiresGrad).Concat(captured).Distinct(ReferenceEqualityComparer.Instance).Cast<TensorBase>().ToArray();
        if (size > 0 && parents.Length > 0)
        {
            // Carries only a gradient (the outputs' blocks): its values are never read, so it has no storage.
            token = new Tensor<T>([size], []);
            Tape.Record(CheckpointRule<T>.Instance, token, null, aux: parents);
            if (token.RequiresGrad) byToken.Add(token, this);
            for (int j = 0; j < outputs.Length; j++)
                if (offsets[j] >= 0) Tape.Record(CheckpointOutputRule<T>.Instance, outputs[j], token, aux: this, i0: j); // Aux: segment, I0: output index
        }
        return outputSlot.Select(j => outputs[j]).ToArray();
    }

    /// <summary>Output j's gradient arrives: add it into its block of the token's gradient.</summary>
    internal void Receive(int j, ReadOnlySpan<T> dy)
    {
        var block = token.GradSink().Zeroed().Slice(offsets[j], dy.Length);
        TP.Add(block, dy, block);
        reached[j] = true;
    }

    /// <summary>Recompute the segment and back-propagate the outputs' gradients (<paramref name="tokenGrad"/>) through it.</summary>
    internal void Backward(ReadOnlySpan<T> tokenGrad)
    {
        var arrived = (bool[])reached.Clone();
        Array.Clear(reached); // before anything can throw: a later pass over a retained graph starts afresh
        var leaves = FreshLeaves();
        using var privateTape = Tape.UsePrivateTape();
        var tape = Tape.Current;
        Tensor<T>[] produced;
        using (GradientCheckpoint.Recomputing()) produced = Call(tape, leaves);
        var distinct = CheckSameAsForward(tape, leaves, produced);

        // Outputs no gradient reached stay out, as their subgraph would without checkpointing.
        var live = Enumerable.Range(0, distinct.Length).Where(j => offsets[j] >= 0 && arrived[j]).ToArray();
        if (live.Length == 0) return;
        var seed = Tensor<T>.Uninitialized([live.Sum(j => distinct[j].Size)]);
        int at = 0;
        foreach (int j in live)
        {
            tokenGrad.Slice(offsets[j], distinct[j].Size).CopyTo(seed.Data.AsSpan(at));
            at += distinct[j].Size;
        }
        var parts = live.Select(j => distinct[j].Reshape(-1)).ToArray();
        var root = parts.Length == 1 ? parts[0] : Tensor.Concat(0, parts);
        GradientCheckpoint.SegmentTapeObserver?.Invoke(tape);

        // An input's gradient so far continues accumulating in its leaf, so each element receives the same additions
        // in the same order as without checkpointing (bit-identical gradients), and then moves back.
        for (int i = 0; i < leaves.Length; i++)
            if (leaves[i].RequiresGrad) (leaves[i].Grad, originals[i].Grad) = (originals[i].Grad, null);
        try
        {
            root.Backward(seed);
        }
        finally
        {
            BufferPool<T>.Return(seed.Data); // backward copied it into the root's gradient and holds no reference

            for (int i = 0; i < leaves.Length; i++)
            {
                if (!leaves[i].RequiresGrad) continue;
                var direct = originals[i].Grad; // an input the segment also captured received part of its gradient directly
                originals[i].Grad = leaves[i].Grad;
                if (direct is not null)
                {
                    if (originals[i].Grad is null) originals[i].Grad = direct;
                    else TP.Add(originals[i].Grad!.Data, direct.Data, originals[i].Grad!.Data);
                }
            }
        }
    }

    /// <summary>
    /// The tensor handed out for a segment output <paramref name="o"/> of the private tape, sharing its storage. When
    /// the private tape would recycle that storage at its reset (an output recorded under <see cref="Tape.ReuseBuffers"/>),
    /// the handed-out tensor takes it over instead, so the caller's tape recycles it at its own reset; storage shared
    /// in other ways (a view of an intermediate, an input) is kept out of the pool for good, as before.
    /// </summary>
    private static Tensor<T> TakeOver(Tensor<T> o)
    {
        var output = new Tensor<T>(o.Dims, o.Data);
        if (o.StorageOwner is null && o.ReleaseAtReset && !o.StorageEscaped)
        {
            o.ReleaseAtReset = false;
            output.EngineOwnsStorage = true;
        }
        else o.KeepStorage();
        return output;
    }

    private Tensor<T>[] FreshLeaves() =>
        originals.Select(t => new Tensor<T>(t.Dims, t.Data) { RequiresGrad = t.RequiresGrad }).ToArray();

    private Tensor<T>[] Call(Tape tape, Tensor<T>[] leaves)
    {
        long generation = tape.Generation;
        var produced = Validate(function(inputSlot.Select(i => leaves[i]).ToArray()));
        if (tape.Generation != generation)
            throw new InvalidOperationException($"{Op}: the segment ran Backward or Tape.Reset on the tape it records on; a checkpointed segment must only compute its outputs.");
        return produced;
    }

    internal static Tensor<T>[] Validate(Tensor<T>[]? produced)
    {
        if (produced is null) throw new InvalidOperationException($"{Op}: the segment returned null; it must return its output tensors.");
        for (int j = 0; j < produced.Length; j++)
            if (produced[j] is null) throw new InvalidOperationException($"{Op}: output {j} of the {produced.Length} the segment returned is null.");
        return produced;
    }

    /// <summary>The tensors requiring a gradient that the segment read or returned without receiving them as inputs.</summary>
    private static HashSet<TensorBase> Reads(Tape tape, Tensor<T>[] leaves, Tensor<T>[] produced)
    {
        var set = new HashSet<TensorBase>(TensorIdentity.Instance);
        bool IsLeafCopy(TensorBase t) => Array.IndexOf(leaves, t) >= 0;
        foreach (var t in tape.RecordedExternalInputs())
            if (t.RequiresGrad && !IsLeafCopy(t)) set.Add(t);
        foreach (var o in produced)
            if (o.RequiresGrad && o.OwnerTape != tape && !IsLeafCopy(o)) set.Add(o);
        return set;
    }

    private static Tensor<T>[] Distinct(Tensor<T>[] produced, out int[] slots)
    {
        var distinct = new List<Tensor<T>>();
        slots = new int[produced.Length];
        for (int i = 0; i < produced.Length; i++)
        {
            int at = distinct.FindIndex(t => ReferenceEquals(t, produced[i]));
            if (at < 0) { at = distinct.Count; distinct.Add(produced[i]); }
            slots[i] = at;
        }
        return [.. distinct];
    }

    /// <summary>The recomputation must reproduce forward exactly, or the gradient would belong to a different function.</summary>
    private Tensor<T>[] CheckSameAsForward(Tape tape, Tensor<T>[] leaves, Tensor<T>[] produced)
    {
        const string Fix = "The segment must be deterministic: draw random numbers (dropout masks, noise) outside it and pass or capture them, and do not change captured tensors between forward and backward.";
        if (produced.Length != outputSlot.Length)
            throw new InvalidOperationException($"{Op}: recomputing the segment in backward returned {produced.Length} outputs; forward returned {outputSlot.Length}. {Fix}");
        var distinct = Distinct(produced, out var slots);
        if (!slots.AsSpan().SequenceEqual(outputSlot))
            throw new InvalidOperationException($"{Op}: recomputing the segment in backward returned a different pattern of repeated outputs than forward. {Fix}");
        for (int j = 0; j < distinct.Length; j++)
        {
            var (now, then) = (distinct[j], outputs[j]);
            if (!ShapeMath.Equal(now.Dims, then.Dims) || now.RequiresGrad != (offsets[j] >= 0))
                throw new InvalidOperationException(
                    $"{Op}: recomputing the segment in backward gave output {j} shape {now.ShapeText} (requires grad: {now.RequiresGrad}); forward gave {then.ShapeText} (requires grad: {offsets[j] >= 0}). {Fix}");
            if (!MemoryMarshal.AsBytes(now.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(then.AsSpan())))
            {
                int i = 0;
                while (MemoryMarshal.AsBytes(now.Data.AsSpan(i, 1)).SequenceEqual(MemoryMarshal.AsBytes(then.Data.AsSpan(i, 1)))) i++;
                throw new InvalidOperationException(
                    $"{Op}: recomputing the segment in backward gave different values for output {j} (shape {now.ShapeText}): at flat index {i} forward gave {then.Data[i]}, the recomputation {now.Data[i]}. {Fix}");
            }
        }
        foreach (var t in Reads(tape, leaves, produced))
            if (!captured.Contains(t))
                throw new InvalidOperationException(
                    $"{Op}: recomputing the segment in backward read a tensor {t.ShapeText} requiring a gradient that it did not read in forward (a parameter created inside the segment?); its gradient would be lost. Create parameters outside the segment.");
        return distinct;
    }
}

/// <summary>The segment's entry: its gradient-only output collects the outputs' gradients; backward recomputes and differentiates the segment.</summary>
internal sealed class CheckpointRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly CheckpointRule<T> Instance = new();
    public override string Name => "Checkpoint";

    // run the segment again from its inputs and back-propagate dy (its outputs' gradients, block by block) through it
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy) => CheckedSegment<T>.Of(y).Backward(dy);

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents) => throw CheckpointedSegments.NoHigherOrder("Jvp, Hvp and Jacobian");

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) => throw CheckpointedSegments.NoHigherOrder("Autograd.Grad and Hvp");
}

/// <summary>One output of a segment (Aux: the segment, I0: which output).</summary>
internal sealed class CheckpointOutputRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The segment this output belongs to (slot Aux).</summary>
    private static CheckedSegment<T> Segment(in TapeEntry e) => (CheckedSegment<T>)e.Aux!;
    /// <summary>Which of the segment's outputs this is (slot I0).</summary>
    private static int OutputIndex(in TapeEntry e) => e.I0;

    public static readonly CheckpointOutputRule<T> Instance = new();
    public override string Name => "CheckpointOutput";

    // d(token)[block of output j] += dy, as the slice of a packed output would
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy) => Segment(e).Receive(OutputIndex(e), dy);

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents) => throw CheckpointedSegments.NoHigherOrder("Jvp, Hvp and Jacobian");

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) => throw CheckpointedSegments.NoHigherOrder("Autograd.Grad and Hvp");
}

/// <summary>What forward mode and higher-order derivatives do with a checkpointed segment: refuse it, clearly.</summary>
internal static class CheckpointedSegments
{
    // A segment keeps no intermediates, only a recipe that its fast backward replays; forward mode and a recorded
    // backward would need that replay to be recorded too, which the segment does not do.
    public static NotSupportedException NoHigherOrder(string what) => new(
        $"Checkpoint: {what} cannot pass through a gradient-checkpointed segment (it keeps no intermediates to differentiate). " +
        "Run the forward pass without checkpointing (SequenceOptions.CheckpointEvery = 0, adl --grad-checkpoint 0) for forward-mode or second-order derivatives.");
}
