using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>Options of one unrolled pass of a cell over a sequence (<see cref="Unroll.Run"/>).</summary>
public sealed record UnrollOptions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The state before the first processed step; zeros (<see cref="RecurrentCell{T}.InitialState"/>) when null.</summary>
    public RecurrentState<T>? InitialState { get; init; }

    /// <summary>
    /// [T, B] mask of live steps (non-zero = live). At a padded step the state is carried unchanged and the output is
    /// zero. With a mask made from lengths (<see cref="SequenceMask.FromLengths{T}"/>) the reverse pass therefore
    /// starts each sequence at its own last step, as PyTorch's packed sequences do.
    /// </summary>
    public Tensor<T>? Mask { get; init; }

    /// <summary>Process t = T-1 down to 0 instead of 0 up to T-1 (outputs stay at their time positions).</summary>
    public bool Reverse { get; init; }

    /// <summary>
    /// Truncated backpropagation through time: when positive, the carried state is detached whenever the pass crosses
    /// a time position that is a multiple of k (forward: before steps k, 2k, ...; reverse: before steps k-1, 2k-1, ...
    /// counted from the end of each chunk), so gradients flow only within the chunks [0, k), [k, 2k), ... The forward
    /// values are unchanged. 0 means full backpropagation.
    /// </summary>
    public int DetachEvery { get; init; }

    /// <summary>Compute the cell's input projection for all T steps as one product before the loop (default), instead of once per step.</summary>
    public bool HoistInputProjection { get; init; } = true;

    /// <summary>
    /// Call <see cref="Tensor{T}.RetainGrad"/> on every per-step state tensor, so backward keeps dL/dh_t, dL/dc_t.
    /// Not available with <see cref="CheckpointEvery"/> (those states are recomputed on a private tape and discarded).
    /// </summary>
    public bool RetainStateGradients { get; init; }

    /// <summary>
    /// Gradient checkpointing: when positive, the pass runs in segments of k steps (in processing order), each through
    /// <see cref="GradientCheckpoint.Run{T}(Func{Tensor{T}[], Tensor{T}[]}, Tensor{T}[])"/>. The tape then keeps, besides
    /// the per-step outputs (the result), only the state entering each segment; backward recomputes one segment at a time
    /// from it, so activation memory is O(T/k + k) step activations instead of O(T), O(sqrt(T)) with
    /// <see cref="GradientCheckpoint.SqrtSteps"/> (k = ceil(sqrt(T))), for one extra forward pass (Chen et al. 2016,
    /// "Training deep nets with sublinear memory cost"; Griewank 1992). 0: off. Under <see cref="Autograd.NoGrad"/>
    /// nothing would be kept and the ordinary pass runs.
    /// </summary>
    /// <remarks>
    /// Gradients are bit-identical to the uncheckpointed pass with the same options, with one exception: a hoisted input
    /// projection (<see cref="HoistInputProjection"/>) is hoisted per segment (one product over its k*B rows), since one
    /// product over all T*B rows would keep O(T) projected rows alive for backward. The parameters that only the
    /// projection reads (weight_ih, bias_ih of the built-in cells) then sum their gradient over the T*B rows in T/k
    /// partial sums: equal to the uncheckpointed gradient up to rounding (5e-15 relative in double at T = 10,000). Where
    /// the step runs as one compiled sequence (see <see cref="Compile"/>) each segment is one, and the weights its per-step
    /// products read (weight_hh, bias_hh) likewise sum their gradient per segment: rounding only (3e-15 at T = 10,000).
    /// All other gradients, of x and the initial state included, stay bit-identical; with HoistInputProjection false and a
    /// step recorded per step (a mask, <c>Compile = false</c>), every gradient is.
    /// <see cref="UnrollResult{T}.States"/> is not kept (accessing it throws) and <see cref="RetainStateGradients"/>
    /// cannot be combined with checkpointing. Works with every cell, masks, reverse passes and <see cref="DetachEvery"/>.
    /// </remarks>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// Run a <see cref="LinearRecurrentCell{T}"/> in its parallel form, one scan over time instead of T steps (default),
    /// where the options allow it: a forward (not <see cref="Reverse"/>) pass with the input projection hoisted and without
    /// <see cref="DetachEvery"/>, <see cref="RetainStateGradients"/> or <see cref="CheckpointEvery"/> (the others run the
    /// stepped form, which gives the same values). False: always step.
    /// </summary>
    public bool ParallelForm { get; init; } = true;

    /// <summary>
    /// Run each step through the cell's <see cref="RecurrentCell{T}.CompiledStep"/> (default): traced once, its
    /// elementwise work fused into one tape entry per group, with the same values and gradients as the interpreted step
    /// up to rounding. Where the step's program allows it (products by fixed weights and fused groups) and the pass has
    /// no <see cref="Mask"/>, no <see cref="RetainStateGradients"/> and no <see cref="GateMonitor"/> listener, the whole
    /// pass is ONE tape entry over a buffer planned for every step, so a training iteration allocates almost nothing.
    /// False: the interpreted tape, one entry per primitive (the readable path). A step that cannot be traced runs
    /// interpreted either way (<see cref="RecurrentCell{T}.ExplainCompiledStep"/> says why, and how the pass is recorded).
    /// </summary>
    public bool Compile { get; init; } = true;
}

/// <summary>The result of one unrolled pass.</summary>
public sealed class UnrollResult<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal UnrollResult(Tensor<T> output, RecurrentState<T> finalState, IReadOnlyList<RecurrentState<T>> states)
    {
        Output = output;
        this.finalState = finalState;
        States = states;
    }

    /// <summary>
    /// A pass whose per-step states are rows of its stacked states: the final one is made on first access, like any
    /// other (two views and their tape entries, most of what a training iteration that never reads it allocated).
    /// </summary>
    internal UnrollResult(Tensor<T> output, ScannedStates<T> states, int finalTime)
    {
        Output = output;
        States = states;
        this.finalTime = finalTime;
    }

    private RecurrentState<T>? finalState;
    private readonly int finalTime;

    /// <summary>The outputs h_t stacked in time order, [T, B, H] (zero at padded steps).</summary>
    public Tensor<T> Output { get; }

    /// <summary>The state after the last processed step (t = T-1 forward, t = 0 reverse; padded steps do not change it).</summary>
    /// <remarks>
    /// Where the pass ran as one compiled sequence, made on first access from the stacked states, as any of
    /// <see cref="States"/> is: read it before the tape's next reset under <see cref="Tape.ReuseBuffers"/>, as any
    /// value computed in the pass.
    /// </remarks>
    public RecurrentState<T> FinalState => finalState ??= States[finalTime];

    /// <summary>
    /// States[t] is the state after processing time t (in time order, for either direction): the tensors to inspect or
    /// to <c>RetainGrad()</c>. Not kept by a checkpointed pass (<see cref="UnrollOptions{T}.CheckpointEvery"/>): reading
    /// an element then throws.
    /// </summary>
    public IReadOnlyList<RecurrentState<T>> States { get; }
}

/// <summary>The one generic unroll that serves every <see cref="RecurrentCell{T}"/>.</summary>
public static class Unroll
{
    /// <summary>
    /// Runs <paramref name="cell"/> over <paramref name="x"/> ([T, B, I]). Everything is recorded with ordinary
    /// primitives (Linear, Narrow, Where, Concat...), so backward is backpropagation through time; with
    /// <see cref="UnrollOptions{T}.CheckpointEvery"/> the steps are recorded in checkpointed segments.
    /// </summary>
    public static UnrollResult<T> Run<T>(RecurrentCell<T> cell, Tensor<T> x, UnrollOptions<T>? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new UnrollOptions<T>();
        string op = cell.UnrollName;
        if (x.Rank != 3 || x.Shape[0] == 0 || x.Shape[1] == 0 || x.Shape[2] != cell.InputSize)
            throw new ArgumentException($"{op}: the input has shape {x.ShapeText}; expected [T, B, {cell.InputSize}] with T, B >= 1.");
        if (options.DetachEvery < 0) throw new ArgumentOutOfRangeException(nameof(options), $"{op}: DetachEvery must be >= 0, got {options.DetachEvery}.");
        if (options.CheckpointEvery < GradientCheckpoint.SqrtSteps)
            throw new ArgumentOutOfRangeException(nameof(options), $"{op}: CheckpointEvery must be a positive segment length, 0 (off) or GradientCheckpoint.SqrtSteps ({GradientCheckpoint.SqrtSteps}), got {options.CheckpointEvery}.");
        if (options.CheckpointEvery != 0 && options.RetainStateGradients)
            throw new ArgumentException(
                $"{op}: RetainStateGradients cannot be combined with CheckpointEvery = {options.CheckpointEvery}: the states inside a checkpointed segment " +
                "exist only on a private tape that backward recomputes and discards, so no per-step gradient can be retained. Run without checkpointing " +
                "(on a shorter sequence, or with DetachEvery) to see dL/dh_t at every step.");
        int steps = x.Shape[0], batch = x.Shape[1];
        if (options.InitialState is { } given) cell.ValidateState(op, given, batch, "initial state");
        // A stepped pass may hand its initial state on (as the final state of a fully padded sequence), so it gets fresh
        // zeros; a whole compiled sequence only reads them and shares one set per thread and shape (see RunWhole).
        RecurrentState<T> Initial() => options.InitialState ?? cell.InitialState(batch);
        var live = options.Mask is null ? null : SequenceMask.PerStep(op, options.Mask, steps, batch);
        Tensor<T>? zeros = live is null ? null : Tensor.Zeros<T>(batch, cell.HiddenSize);
        int segment = options.CheckpointEvery == GradientCheckpoint.SqrtSteps ? GradientCheckpoint.SegmentLength(steps) : options.CheckpointEvery;
        // The cell's parameters are constant over the pass, so the recurrent weight is packed once, not at every step.
        using var packed = PackedOperands.Open();
        if (cell is LinearRecurrentCell<T> linear && options.ParallelForm && options.HoistInputProjection && !options.Reverse && options.DetachEvery == 0
            && !options.RetainStateGradients && (segment == 0 || !Autograd.IsGradEnabled))
            return RunScan(linear, x, Initial(), options.Mask);
        if (segment > 0 && Autograd.IsGradEnabled) return RunCheckpointed(op, cell, x, options, Initial(), live, zeros, segment);

        // The input term does not depend on the state, so all T*B rows go through one product before the loop.
        Tensor<T>? projected = null;
        int madeBefore = TensorBase.Constructed;
        if (cell.HasInputProjection && options.HoistInputProjection)
            projected = cell.ProjectInput(x.Reshape(steps * batch, cell.InputSize)).Reshape(steps, batch, -1);
        if (RunWhole(cell, x, projected, options.InitialState ?? ZeroStates<T>.For(cell, batch), options) is { } whole)
        {
            projected?.RecycleTemporary(madeBefore);
            return whole;
        }

        var state = Initial();
        var outputs = new Tensor<T>[steps];
        var states = new RecurrentState<T>[steps];
        // Under NoGrad each step's slice is dead once the step has run, but only a compiled step is known not to keep
        // its input: a step that runs as written (Compile = false, or a fallback) is the user's code, which may.
        bool giveBackSlices = projected is not null && !Autograd.IsGradEnabled && options.Compile && !Autograd.AnomalyDetectionEnabled
            && !Compiler.Interpreting && cell.CompiledStep.FallbackReason([[batch, projected.Shape[^1]], .. state.Tensors.Select(s => s.Dims)]) is null;
        for (int n = 0; n < steps; n++)
        {
            int t = options.Reverse ? steps - 1 - n : n;
            if (CrossesChunk(options, n, t)) state = state.Detach();
            var input = projected?.Select(0, t) ?? cell.ProjectInput(x.Select(0, t));
            (outputs[t], state) = Advance(cell, options.Compile, input, state, live?[t], zeros);
            if (giveBackSlices) GiveBackSlice(input, madeBefore, state, outputs[t]);
            if (options.RetainStateGradients) state.RetainGrad();
            states[t] = state;
        }
        // Nothing recorded the hoisted projection (inference under NoGrad, or nothing needing a gradient) once every step
        // has copied its slice: at W3 a 400 KB array that would otherwise wait for a gen-2 collection, and on the
        // project's VMs large garbage cost more than the product did.
        projected?.RecycleTemporary(madeBefore);
        return new UnrollResult<T>(Tensor.Stack(0, outputs), state, states);
    }

    /// <summary>
    /// The pass in segments of <paramref name="segment"/> steps, each one <see cref="GradientCheckpoint"/> call taking
    /// (x, entering state) and returning (its per-step outputs, leaving state), or, where the step runs as one compiled
    /// sequence, (its stacked outputs, leaving state). Each step records the same operations as in the ordinary pass
    /// (<see cref="Advance"/>, or the same sequence), which is what makes the gradients bit-identical up to the weight
    /// gradients' per-segment sums.
    /// </summary>
    private static UnrollResult<T> RunCheckpointed<T>(string op, RecurrentCell<T> cell, Tensor<T> x, UnrollOptions<T> options,
        RecurrentState<T> state, Tensor<T>?[]? live, Tensor<T>? zeros, int segment)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = x.Shape[0], batch = x.Shape[1];
        bool hoist = cell.HasInputProjection && options.HoistInputProjection;
        int Time(int n) => options.Reverse ? steps - 1 - n : n;
        // Decided once: a segment's forward and its recomputation in backward must hand the checkpoint the same tensors.
        bool whole = live is null && (hoist || !cell.HasInputProjection) && WholeApplies(cell, batch, state, options);
        var outputs = new Tensor<T>[steps];
        var segments = new List<(int First, Tensor<T> Outputs)>();
        for (int n0 = 0; n0 < steps; n0 += segment)
        {
            // Per-iteration copies: the segment runs again in backward, long after this loop has moved on.
            int start = n0, length = Math.Min(segment, steps - n0);
            int first = options.Reverse ? steps - start - length : start; // earliest time position of the segment
            var produced = GradientCheckpoint.Run(inputs =>
            {
                var (xs, s) = (inputs[0], new RecurrentState<T>(cell.StateNames, inputs[1..]));
                // Hoisted per segment: a product over all T*B rows would keep T projected rows alive for backward.
                var projected = hoist ? cell.ProjectInput(xs.Narrow(0, first, length).Reshape(length * batch, cell.InputSize)).Reshape(length, batch, -1) : null;
                // A whole segment as one compiled sequence returns its outputs stacked [length, B, H], then its last state.
                if (whole && Whole(cell, projected ?? xs.Narrow(0, first, length), s, options, new(options.DetachEvery, start, first)) is var (stacks, _))
                    return [stacks[^1], .. stacks[..^1].Select(h => h.Select(0, options.Reverse ? 0 : length - 1))];
                var result = new Tensor<T>[length + s.Count];
                for (int i = 0; i < length; i++)
                {
                    int n = start + i, t = Time(n);
                    if (CrossesChunk(options, n, t)) s = s.Detach();
                    var input = projected?.Select(0, t - first) ?? cell.ProjectInput(xs.Select(0, t));
                    (result[i], s) = Advance(cell, options.Compile, input, s, live?[t], zeros);
                }
                if (whole) return [Tensor.Stack(0, options.Reverse ? [.. result[..length].Reverse()] : result[..length]), .. s.Tensors];
                for (int j = 0; j < s.Count; j++) result[length + j] = s[j];
                return result;
            }, [x, .. state.Tensors]);
            if (whole)
            {
                segments.Add((first, produced[0]));
                state = new RecurrentState<T>(cell.StateNames, produced[1..]);
                continue;
            }
            for (int i = 0; i < length; i++) outputs[Time(start + i)] = produced[i];
            state = new RecurrentState<T>(cell.StateNames, produced[length..]);
        }
        var output = whole ? Tensor.Concat(0, [.. segments.OrderBy(s => s.First).Select(s => s.Outputs)]) : Tensor.Stack(0, outputs);
        return new UnrollResult<T>(output, state, new StatesNotKept<T>(op, steps));
    }

    /// <summary>Whether a pass of these options can run the step as one compiled sequence (<see cref="Whole"/>).</summary>
    private static bool WholeApplies<T>(RecurrentCell<T> cell, int batch, RecurrentState<T> state, UnrollOptions<T> options) where T : unmanaged, IFloatingPointIeee754<T> =>
        Planned(cell, cell.StepInputShapes(batch)[0], state, options) is not null;

    /// <summary>The step planned over a whole sequence for step inputs of <paramref name="inputShape"/> and this state, when the options allow it.</summary>
    private static (CompiledSequence<T> Sequence, TensorBase[] Constants)? Planned<T>(RecurrentCell<T> cell, int[] inputShape, RecurrentState<T> state,
        UnrollOptions<T> options) where T : unmanaged, IFloatingPointIeee754<T> =>
        options.Compile && !GateMonitor.IsListening ? cell.CompiledStep.SequenceFor(StepShapes(inputShape, state)) : null;

    private static int[][] StepShapes<T>(int[] inputShape, RecurrentState<T> state) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shapes = new int[state.Count + 1][];
        shapes[0] = inputShape;
        for (int k = 0; k < state.Count; k++) shapes[k + 1] = state[k].Dims;
        return shapes;
    }

    /// <summary>
    /// The compiled step over the whole sequence as one tape entry (<see cref="CompiledSequence{T}"/>), or null where
    /// the options or the step need one recorded step at a time: a mask, retained state gradients, a listening
    /// <see cref="GateMonitor"/>, an input projection left in the loop, a step that is not compiled or not planned.
    /// Per-step states are rows of the stacked states, made on first access.
    /// </summary>
    private static UnrollResult<T>? RunWhole<T>(RecurrentCell<T> cell, Tensor<T> x, Tensor<T>? projected, RecurrentState<T> state, UnrollOptions<T> options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (options.Mask is not null || options.RetainStateGradients) return null;
        if (Whole(cell, projected ?? (cell.HasInputProjection ? null : x), state, options, new(options.DetachEvery)) is not var (stacks, recorded)) return null;
        var states = new ScannedStates<T>(cell.StateNames, stacks[..^1], recorded?.Shown);
        return new UnrollResult<T>(stacks[^1], states, options.Reverse ? 0 : x.Shape[0] - 1);
    }

    /// <summary>
    /// The step over every row of <paramref name="stepInputs"/> ([T, B, P]) as one compiled sequence: each result of the
    /// step stacked over time (states, then the output), or null when the step must run one recorded step at a time.
    /// </summary>
    private static (Tensor<T>[] Stacks, CompiledSequence<T>.Recorded? Recorded)? Whole<T>(RecurrentCell<T> cell, Tensor<T>? stepInputs, RecurrentState<T> state,
        UnrollOptions<T> options, CompiledSequence<T>.Chunks chunks) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (stepInputs is null || Planned(cell, [stepInputs.Shape[1], stepInputs.Shape[2]], state, options) is not var (sequence, constants)) return null;
        return sequence.Run(stepInputs, [.. state.Tensors], constants, options.Reverse, chunks);
    }

    /// <summary>The parallel form: every step's state from one scan; per-step states are views of it, made on first access.</summary>
    private static UnrollResult<T> RunScan<T>(LinearRecurrentCell<T> cell, Tensor<T> x, RecurrentState<T> state, Tensor<T>? mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (output, states) = cell.ScanForward(x, state, mask);
        var scanned = new ScannedStates<T>(cell.StateNames, [states]);
        return new UnrollResult<T>(output, scanned, x.Shape[0] - 1);
    }

    /// <summary>
    /// A step's copy of its row of the hoisted projection, given back once the compiled step has run if nothing recorded
    /// it (an inference pass: 100 arrays of B x 4H at W3 otherwise left to the collector), unless the cell handed it on
    /// as its state or output, or a <see cref="GateMonitor"/> listener, which may keep what it is shown, is running.
    /// </summary>
    private static void GiveBackSlice<T>(Tensor<T> slice, int madeBefore, RecurrentState<T> next, Tensor<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // A view's storage is the projection's, which later steps still read.
        if (slice.StorageOwner is not null || GateMonitor.IsListening || slice.SharesStorageWith(output)) return;
        slice.RecycleTemporary(madeBefore, next.Tensors);
    }

    /// <summary>One step: the cell, then at padded steps the previous state carried and a zero output.</summary>
    private static (Tensor<T> Output, RecurrentState<T> Next) Advance<T>(RecurrentCell<T> cell, bool compile, Tensor<T> input, RecurrentState<T> state, Tensor<T>? mask, Tensor<T>? zeros)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RecurrentState<T> next;
        Tensor<T> output;
        if (compile)
        {
            var produced = cell.CompiledStep.Invoke([input, .. state.Tensors]);
            (next, output) = (new RecurrentState<T>(cell.StateNames, produced[..^1]), produced[^1]);
        }
        else
        {
            next = cell.Step(input, state);
            output = cell.Output(next);
        }
        if (mask is null) return (output, next);
        next = RecurrentState<T>.Where(mask, next, state);
        return (Tensor.Where(mask, output, zeros!), next);
    }

    /// <summary>Truncated BPTT: whether step n (time t) starts a new chunk, where the carried state is detached.</summary>
    private static bool CrossesChunk<T>(UnrollOptions<T> options, int n, int t) where T : unmanaged, IFloatingPointIeee754<T> =>
        CrossesChunk(options.DetachEvery, options.Reverse, n, t);

    /// <summary>Whether step n (time t) of a pass with <see cref="UnrollOptions{T}.DetachEvery"/> = <paramref name="k"/> starts a new chunk.</summary>
    internal static bool CrossesChunk(int k, bool reverse, int n, int t) => k > 0 && n > 0 && (reverse ? (t + 1) % k == 0 : t % k == 0);
}

/// <summary>
/// Zero initial states shared by the passes of one thread: at W2 a fresh [32, 256] h and c per pass were most of what a
/// compiled training iteration allocated. Only passes that never hand the initial state on use them (a whole compiled
/// sequence reads it; a stepped pass may return it as a final state, so a mask or <c>Compile = false</c> makes fresh ones).
/// </summary>
internal static class ZeroStates<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] private static Dictionary<(int Batch, int Size), Tensor<T>>? shared;

    /// <summary>The cell's <see cref="RecurrentCell{T}.InitialState"/> (zeros), from tensors that nothing may write or hand on.</summary>
    public static RecurrentState<T> For(RecurrentCell<T> cell, int batch)
    {
        shared ??= [];
        var tensors = new Tensor<T>[cell.StateNames.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            var key = (batch, cell.StateSize(i));
            if (!shared.TryGetValue(key, out var zeros)) shared[key] = zeros = Tensor.Zeros<T>(batch, key.Item2);
            tensors[i] = zeros;
        }
        return new RecurrentState<T>(cell.StateNames, tensors);
    }
}

/// <summary><see cref="UnrollResult{T}.States"/> of a checkpointed pass: the per-step states were not kept, and saying so beats an empty list.</summary>
internal sealed class StatesNotKept<T>(string op, int steps) : IReadOnlyList<RecurrentState<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Count => steps;

    public RecurrentState<T> this[int index] => throw Error();

    public IEnumerator<RecurrentState<T>> GetEnumerator() => throw Error();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private InvalidOperationException Error() => new(
        $"{op}: the per-step states are not kept when checkpointing (CheckpointEvery): keeping them would cost the O(T) memory that " +
        "checkpointing saves. Use the final state and the outputs, or run without CheckpointEvery to inspect every step.");
}

/// <summary>
/// <see cref="UnrollResult{T}.States"/> of a pass that stacked its states over time (a scan, a whole compiled sequence):
/// state t is row t of each [T, ...] stack, selected once on first access.
/// </summary>
/// <remarks><paramref name="shown"/> hears of each state made, with its time position (a compiled sequence gives it its gradient if retained).</remarks>
internal sealed class ScannedStates<T>(IReadOnlyList<string> names, Tensor<T>[] stacks, List<(int Time, Tensor<T>[] States)>? shown = null) : IReadOnlyList<RecurrentState<T>>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Keyed by time: most passes show one state (the final one), and an array of T slots would be most of what a long
    // compiled pass allocates (8 KB at T = 1000).
    private Dictionary<int, RecurrentState<T>>? made;

    public int Count => stacks[0].Shape[0];

    public RecurrentState<T> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"States: time {index} is outside [0, {Count}).");
            made ??= [];
            if (made.TryGetValue(index, out var state)) return state;
            var tensors = stacks.Select(s => s.Select(0, index)).ToArray();
            shown?.Add((index, tensors));
            return made[index] = new RecurrentState<T>(names, tensors);
        }
    }

    public IEnumerator<RecurrentState<T>> GetEnumerator()
    {
        for (int t = 0; t < Count; t++) yield return this[t];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
