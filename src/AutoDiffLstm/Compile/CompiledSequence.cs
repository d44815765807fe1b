using System.Numerics;
using AutoDiffLstm.Recurrent;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// A compiled step run over a whole sequence as ONE tape entry: the step's program (its products and fused groups) runs
/// T times over one buffer planned for the whole unroll, so a steady-state pass makes no tensor, no tape entry and no
/// array per step. Backward walks the steps in reverse through the same instructions (each through its primitive's
/// declared derivative) and the same products, with the gradients of two steps at a time, and computes each recurrent
/// weight's gradient in deep products over many steps' rows (on two or more threads, as side jobs beside the steps, see
/// Pass.Flush); forward mode runs the steps' tangents the same way
/// (<see cref="Tangent"/>). Nothing is defined twice: the step is the traced program of <see cref="CompiledProgram{T}"/>,
/// and the derivative modes that need tensor operations (a recorded tangent, a differentiable backward) run that same
/// program one step at a time (<see cref="Rebuild"/>).
/// </summary>
/// <remarks>
/// The tape entry's output is a token in the manner of a checkpoint's: its shape is that of the step's results stacked
/// over time and concatenated (what its gradient holds), its storage the pass's saved values, step after step: of each
/// step's stage values (a product's output, a fused group's arena) only those backward reads and those the rest of the
/// step or the next one reads (<see cref="Stage.SavedSize"/>); the others live in a scratch buffer that every step
/// overwrites. A recorded pass keeps all T steps; an unrecorded one (inference, or nothing needing a gradient) only
/// two, the step being computed and the one before. Fused groups run in blocks of rows (<see cref="GroupBlocks{T}"/>).
/// <para>
/// A program qualifies when its non-fused stages are products of a step value by a captured weight (<c>Linear</c>) and
/// every result it returns is computed by the step (see <see cref="Plan"/>); the unroll records one step at a time
/// otherwise, and for masks, retained state gradients and a listening <see cref="GateMonitor"/>.
/// </para>
/// </remarks>
internal sealed class CompiledSequence<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Place { StepInput, State, Stage, Constant }

    /// <summary>Where a value of the step lives: the step's input row, state k entering the step, <see cref="Offset"/> inside a stage's values, or a captured constant.</summary>
    private readonly record struct Location(Place Kind, int Index, int Offset, int Length);

    /// <summary>
    /// One stage of the step program and the values it adds to each step. Its first <see cref="SavedSize"/> values are
    /// kept for every step (what backward reads); the rest live in scratch memory that the next step overwrites.
    /// Gradients and tangents use the full layout (<see cref="Prefix"/>).
    /// </summary>
    private abstract class Stage(int size, int prefix)
    {
        public int Size { get; } = size;
        public int Prefix { get; } = prefix;   // where its values start in a step's full layout
        public int SavedSize { get; set; }
        public int SavedPrefix { get; set; }   // where its kept values start in a saved step
        public int ScratchPrefix { get; set; } // where the rest starts in the scratch
    }

    /// <summary>y = a W^T (+ b) for a step value a ([Rows, In]) and captured constants W ([Out, In]) and b.</summary>
    private sealed class Product(Location input, int weight, int bias, int rows, int outF, int inF, int prefix) : Stage(rows * outF, prefix)
    {
        public Location Input { get; } = input;
        public int Weight { get; } = weight;
        public int Bias { get; } = bias;   // -1: none
        public int Rows { get; } = rows;
        public int Out { get; } = outF;
        public int In { get; } = inF;
    }

    private sealed class Group(FusedGroup<T> fused, Location[] externals, int prefix) : Stage(fused.ArenaSize, prefix)
    {
        public FusedGroup<T> Fused { get; } = fused;
        public Location[] Externals { get; } = externals;
    }

    /// <summary>
    /// Truncated BPTT inside a pass that may be one segment of a longer one: the carried state is detached where the
    /// whole pass would detach it (<see cref="Unroll.CrossesChunk"/> at step <see cref="FirstStep"/> + n, time
    /// <see cref="FirstTime"/> + t).
    /// </summary>
    internal readonly record struct Chunks(int DetachEvery, int FirstStep = 0, int FirstTime = 0)
    {
        public bool Crosses(bool reverse, int n, int t) => Unroll.CrossesChunk(DetachEvery, reverse, FirstStep + n, FirstTime + t);
    }

    /// <summary>
    /// What a recorded pass keeps besides its token and inputs, and the per-step states shown to the caller so far: one
    /// that retains its gradient gets dL/ds_t, its total gradient, when backward has run. <see cref="Stacks"/>: per
    /// result, the storage of its stack over time, where a weight's gradient reads the states a product read, in place.
    /// </summary>
    /// <remarks><see cref="Aux"/>: the entry's inputs after the projected ones, as recorded; <see cref="Initial"/> and <see cref="Constants"/> split it.</remarks>
    internal sealed record Recorded(CompiledSequence<T> Sequence, int Steps, bool Reverse, Chunks Chunks, T[][] Stacks, TensorBase[] Aux, Tensor<T>[] Initial, TensorBase[] Constants)
    {
        public List<(int Time, Tensor<T>[] States)> Shown { get; } = [];

        /// <summary>
        /// Per result, whether its stack's gradient has reached the token's gradient in the current backward: a stack
        /// nothing reads (an LSTM's c, when the loss reads only h) is neither zero-filled there nor added at each step.
        /// </summary>
        public bool[] StackReached { get; } = new bool[Sequence.results.Length];
    }

    private readonly CompiledProgram<T> program;
    private readonly Stage[] stages;
    private readonly Location[] results;   // the step's results: its states, then the cell's output
    private readonly int[] stackOf;        // for each result, the result whose stack holds it (an LSTM's output is its state h)
    private readonly int[] resultOutput;   // for each result a group computes, its index among that group's outputs (-1: none)
    private readonly int[] stackStart;     // for each result that has its own stack, where it starts in the token, per time step
    private readonly int stackWidth;       // the token's elements per time step
    private readonly int stepSize;         // values per step (the layout of gradients and tangents)
    private readonly int savedStepSize;    // values kept per step
    private readonly int scratchSize;      // values of a step that live in scratch
    private readonly bool readsStepInput;  // whether any stage reads the step's input row (a step may ignore it)

    private CompiledSequence(CompiledProgram<T> program, Stage[] stages, Location[] results, int stepSize)
    {
        (this.program, this.stages, this.results, this.stepSize) = (program, stages, results, stepSize);
        readsStepInput = stages.Any(s => s is Product p ? p.Input.Kind == Place.StepInput : ((Group)s).Externals.Any(e => e.Kind == Place.StepInput));
        foreach (var stage in stages)
        {
            (stage.SavedPrefix, stage.ScratchPrefix) = (savedStepSize, scratchSize);
            savedStepSize += stage.SavedSize;
            scratchSize += stage.Size - stage.SavedSize;
        }
        stackOf = results.Select((r, k) => Array.IndexOf(results, r)).ToArray();
        resultOutput = results.Select(r => r.Kind == Place.Stage && stages[r.Index] is Group g
            ? Array.FindIndex(g.Fused.OutputMembers, m => g.Fused.SlotOffsets[g.Fused.SlotOfMember[m]] == r.Offset) : -1).ToArray();
        stackStart = new int[results.Length];
        for (int k = 0; k < results.Length; k++)
            if (stackOf[k] == k) (stackStart[k], stackWidth) = (stackWidth, stackWidth + results[k].Length);
    }

    /// <summary>Number of states the step carries.</summary>
    public int StateCount => results.Length - 1;

    /// <summary>
    /// The plan of a step program taking (input row, states...) and returning (states..., output), or null with the
    /// reason it must run one recorded step at a time.
    /// </summary>
    public static CompiledSequence<T>? Plan(CompiledProgram<T> program, out string? reason)
    {
        var graph = program.Graph;
        var stageOf = new Dictionary<int, (int Stage, int Offset)>();
        var planned = new Stage[program.Stages.Length];
        int size = 0;
        reason = null;

        Location? Locate(Source s)
        {
            int length = ShapeMath.Size(graph.DimsOf(s));
            return s.Kind switch
            {
                SourceKind.Input => new Location(s.Index == 0 ? Place.StepInput : Place.State, Math.Max(0, s.Index - 1), 0, length),
                SourceKind.Constant => new Location(Place.Constant, s.Index, 0, length),
                SourceKind.Node when stageOf.TryGetValue(s.Index, out var at) => new Location(Place.Stage, at.Stage, at.Offset, length),
                _ => null,
            };
        }

        for (int i = 0; i < planned.Length; i++)
        {
            if (program.Stages[i] is FusedGroup<T> g)
            {
                var externals = new Location[g.Externals.Length];
                for (int k = 0; k < externals.Length; k++)
                    externals[k] = Locate(g.Externals[k]) ?? throw new InvalidOperationException($"fused group {g.Id} reads {g.Externals[k]} before it is computed");
                planned[i] = new Group(g, externals, size);
                foreach (int m in g.Members) stageOf[m] = (i, g.SlotOffsets[g.SlotOfMember[m]]);
            }
            else
            {
                int n = (int)program.Stages[i];
                var node = graph.Nodes[n];
                var (a, w, b) = (node.Slots[0], node.Slots[1], node.Slots[2]);
                if (node.Rule is not LinearRule<T>)
                    return Refuse(out reason, $"its step runs {node.Rule.Name} (%{n}) outside a fused group; only products (Linear) and fused groups run over a whole sequence");
                if (w.Kind != SourceKind.Constant || b.Kind is not (SourceKind.None or SourceKind.Constant) || a.Kind == SourceKind.Constant)
                    return Refuse(out reason, $"its product %{n} is not a step value times a fixed weight");
                var input = Locate(a)!.Value;
                var wDims = graph.DimsOf(w);
                planned[i] = new Product(input, w.Index, b.Kind == SourceKind.None ? -1 : b.Index, input.Length / wDims[1], wDims[0], wDims[1], size);
                stageOf[n] = (i, 0);
            }
            size += planned[i].Size;
        }
        if (graph.Outputs.Length != graph.InputShapes.Length)
            return Refuse(out reason, $"its step takes {graph.InputShapes.Length - 1} states and returns {graph.Outputs.Length - 1} (besides the output)");
        var results = new Location[graph.Outputs.Length];
        for (int k = 0; k < results.Length; k++)
        {
            if (Locate(graph.Outputs[k]) is not { Kind: Place.Stage } at)
                return Refuse(out reason, $"its step returns {graph.Outputs[k]} as it is (an input or a constant), not a value it computes");
            results[k] = at;
        }
        // Kept for backward: a group's values its backward reads or others read (FusedGroup.SavedSize); a product's
        // output when a product's backward reads it as input, a group's backward reads it, or the step returns it.
        var keep = new bool[planned.Length];
        void Keep(Location at) { if (at.Kind == Place.Stage) keep[at.Index] = true; }
        foreach (var at in results) Keep(at);
        foreach (var stage in planned)
        {
            if (stage is Product p) Keep(p.Input);
            else
            {
                var g = (Group)stage;
                for (int k = 0; k < g.Externals.Length; k++)
                    if (g.Fused.ExternalReadInBackward[k]) Keep(g.Externals[k]);
            }
        }
        for (int i = 0; i < planned.Length; i++)
            planned[i].SavedSize = planned[i] is Group g ? g.Fused.SavedSize : keep[i] ? planned[i].Size : 0;
        return new CompiledSequence<T>(program, planned, results, size);
    }

    private static CompiledSequence<T>? Refuse(out string? reason, string why)
    {
        reason = why;
        return null;
    }

    /// <summary>
    /// Runs the step over every time position of <paramref name="stepInputs"/> ([T, B, P], the projected inputs),
    /// from <paramref name="initial"/>, in time order or <paramref name="reverse"/>d, with the carried state detached at
    /// the boundaries of <paramref name="chunks"/> (as <see cref="UnrollOptions{T}.DetachEvery"/>). Returns each result
    /// of the step stacked over time ([T, ...]: the states, then the output), recorded when gradients are enabled and
    /// anything needs one (then with what the pass recorded).
    /// </summary>
    public (Tensor<T>[] Stacks, Recorded? Recorded) Run(Tensor<T> stepInputs, Tensor<T>[] initial, TensorBase[] constants, bool reverse, Chunks chunks)
    {
        int steps = stepInputs.Shape[0];
        bool record = Autograd.IsGradEnabled && (stepInputs.RequiresGrad || initial.Any(s => s.RequiresGrad) || constants.Any(c => c.RequiresGrad));
        int kept = record ? steps : Math.Min(steps, 2);
        var token = new Tensor<T>([record ? steps * stackWidth : 0], BufferPool<T>.Rent(kept * savedStepSize)) { EngineOwnsStorage = true };
        using var pass = StartPass(token, stepInputs, initial, constants, steps, record, reverse, chunks);
        var stacks = new Tensor<T>[results.Length];
        for (int k = 0; k < stacks.Length; k++)
            stacks[k] = stackOf[k] < k ? stacks[stackOf[k]] : Tensor<T>.Uninitialized([steps, .. program.Graph.DimsOf(program.Graph.Outputs[k])]);
        var spans = pass.Spans;
        var (copies, copied) = pass.ForwardCopies;
        for (int n = 0; n < steps; n++)
        {
            pass.Enter(n);
            for (int k = 0; k < stacks.Length; k++)
                if (copied[k]) copies[results[k].Index]![resultOutput[k]] = (stacks[k].Data, pass.Time * results[k].Length);
            for (int i = 0; i < stages.Length; i++)
            {
                if (stages[i] is Product p) pass.Forward(p);
                else pass.Forward((Group)stages[i], i, spans[i]!, copies[i]);
            }
            for (int k = 0; k < stacks.Length; k++)
            {
                if (stackOf[k] < k || copied[k]) continue;
                var (array, offset) = pass.ValueAt(results[k]);
                array.AsSpan(offset, results[k].Length).CopyTo(stacks[k].Data.AsSpan(pass.Time * results[k].Length));
            }
        }
        if (!record)
        {
            BufferPool<T>.Return(token.Data);
            return (stacks, null);
        }
        var stackData = new T[stacks.Length][];
        for (int k = 0; k < stacks.Length; k++) stackData[k] = stacks[k].Data;
        var recorded = new Recorded(this, steps, reverse, chunks, stackData, [.. initial, .. constants], initial, constants);
        Tape.Record(SequenceRule<T>.Instance, token, stepInputs, aux: recorded.Aux, extra: recorded);
        Tape.ReleasePrivateStorageAtReset(token); // only the entry's rules read it
        for (int k = 0; k < stacks.Length; k++)
            if (stackOf[k] == k) Tape.Record(SequenceStackRule<T>.Instance, stacks[k], token, i0: steps * stackStart[k], i1: k, extra: recorded);
        return (stacks, recorded);
    }

    /// <summary>
    /// The parts of a step's gradients that readers outside their stage add to: a product's output (unless its gradient
    /// lives in its weight-gradient batch, <paramref name="batched"/>), and a group's values read outside it; a group's
    /// inner values get their gradients cleared by its blocks (GroupBlocks), where they are in cache.
    /// </summary>
    private (int, int)[] FedGradients(Func<int, bool> batched, Func<(int, int), bool>? skip = null) => Ranges.Merged(stages.SelectMany((stage, i) => stage is Group g
        ? Enumerable.Range(0, g.Fused.SlotOffsets.Length).Where(s => g.Fused.OutputIndexOfSlot[s] >= 0).Select(s => (g.Prefix + g.Fused.SlotOffsets[s], g.Fused.SlotLengths[s]))
        : batched(i) ? [] : [(stage.Prefix, stage.Size)]).Where(range => skip?.Invoke(range) != true));

    /// <summary>How a backward pass handles its gradients (see <see cref="GradientPlanFor"/>), and what that depends on: the stages whose products batch their weight gradients, whether the step inputs' gradient is fresh, which groups run generated kernels in this pass.</summary>
    /// <remarks>
    /// <see cref="FedUnlessStatesWritten"/>, <see cref="FreshWithStates"/> and <see cref="OverwritesInput"/> apply at a step
    /// whose state inputs receive gradients in the previous step's place (not the first step, not a detached one): there
    /// the last stage to read a state (the first to reach it in backward) writes its gradient instead of adding to a
    /// cleared one, a product by overwriting with its dL/da, a generated kernel as for the other fresh externals.
    /// </remarks>
    private sealed record GradientPlan(bool[] WithBatch, bool FreshStepInputs, bool[] Kernels, bool[] Batched, (int, int)[] Fed, bool[]?[] Fresh, bool[] WrittenFresh, bool StepInputWrittenFresh,
        (int, int)[] FedUnlessStatesWritten, bool[]?[] FreshWithStates, bool[] OverwritesInput);

    private GradientPlan? lastGradientPlan;   // the plan of the last pass (passes of one sequence almost always share it), so a pass allocates none

    /// <summary>
    /// The gradient handling of a backward pass: which products keep their output's gradient in their weight-gradient
    /// batch (not one the step returns: a result's gradient is read where the stacks' gradients are added), which parts
    /// of a step's gradients a step clears, and which external gradients a generated kernel writes instead: one it
    /// writes once per element and that would be cleared just before (a step's input rows, a batched product's
    /// output), when that group is the last stage to read it, so the first to reach it in backward.
    /// </summary>
    /// <remarks>Which groups run kernels is the pass's blocks' (a kernel still being generated is not one yet, see <see cref="FusedGroup{T}.KernelIfReady"/>).</remarks>
    private GradientPlan GradientPlanFor((T[] Dy, T[] A, int Steps)[] batches, bool freshStepInputs, GroupBlocks<T>?[] blocks)
    {
        if (lastGradientPlan is { } last && last.FreshStepInputs == freshStepInputs && Same(last.WithBatch, batches) && SameKernels(last.Kernels, blocks)) return last;
        var withBatch = batches.Select(b => b.Dy.Length > 0).ToArray();
        var kernels = blocks.Select(b => b?.WritesGradientOnce is not null).ToArray();
        var batched = stages.Select((s, i) => withBatch[i] && !results.Any(r => r.Index == i)).ToArray();
        var fresh = new bool[]?[stages.Length];
        var writtenFresh = new bool[stages.Length];
        bool stepInputWrittenFresh = false;
        for (int i = 0; i < stages.Length; i++)
        {
            if (stages[i] is not Group g || blocks[i]?.WritesGradientOnce is not { } once) continue;
            for (int k = 0; k < g.Externals.Length; k++)
            {
                var at = g.Externals[k];
                bool clearedBefore = at.Kind == Place.StepInput ? freshStepInputs : at.Kind == Place.Stage && batched[at.Index];
                if (!once[k] || !clearedBefore || LastReader(at) != i || g.Externals.Count(e => e == at) != 1) continue;
                (fresh[i] ??= new bool[g.Externals.Length])[k] = true;
                if (at.Kind == Place.StepInput) stepInputWrittenFresh = true;
                else writtenFresh[at.Index] = true;
            }
        }
        // A state's gradient in the previous step's place: written by the last stage to read that state, where that is a
        // product (its dL/da overwrites) or a generated kernel writing each element once; not for a state that shares its
        // slot with another (then two stages reach it).
        var freshWithStates = (bool[]?[])fresh.Clone();
        var overwritesInput = new bool[stages.Length];
        var writtenSlots = new HashSet<(int, int)>();
        for (int k = 0; k < StateCount; k++)
        {
            var at = new Location(Place.State, k, 0, results[k].Length);
            int reader = LastReader(at);
            if (reader < 0 || Enumerable.Range(0, StateCount).Count(j => results[j] == results[k]) != 1) continue;
            if (stages[reader] is Product p) overwritesInput[reader] = true;
            else if (stages[reader] is Group g && blocks[reader]?.WritesGradientOnce is { } once
                && Array.IndexOf(g.Externals, at) is var e and >= 0 && once[e] && g.Externals.Count(x => x == at) == 1)
                ((freshWithStates[reader] = (bool[]?)freshWithStates[reader]?.Clone() ?? new bool[g.Externals.Length])!)[e] = true;
            else continue;
            writtenSlots.Add((stages[results[k].Index].Prefix + results[k].Offset, results[k].Length));
        }
        var built = new GradientPlan(withBatch, freshStepInputs, kernels, batched, FedGradients(i => batched[i]), fresh, writtenFresh, stepInputWrittenFresh,
            FedGradients(i => batched[i], writtenSlots.Contains), freshWithStates, overwritesInput);
        lastGradientPlan = built;
        return built;

        static bool Same(bool[] withBatch, (T[] Dy, T[] A, int Steps)[] batches)
        {
            for (int i = 0; i < batches.Length; i++)
                if (withBatch[i] != batches[i].Dy.Length > 0) return false;
            return true;
        }

        static bool SameKernels(bool[] kernels, GroupBlocks<T>?[] blocks)
        {
            for (int i = 0; i < blocks.Length; i++)
                if (kernels[i] != blocks[i]?.WritesGradientOnce is not null) return false;
            return true;
        }
    }

    /// <summary>
    /// Whether a fused group reads captured constant <paramref name="constant"/> (then its backward adds into that
    /// constant's gradient on the calling thread: a weight that a group reads as well keeps its weight-gradient products
    /// there, not as side jobs that would add into the same array at the same time).
    /// </summary>
    private bool GroupsReadConstant(int constant)
    {
        foreach (var stage in stages)
            if (stage is Group g)
                foreach (var at in g.Externals)
                    if (at.Kind == Place.Constant && at.Index == constant) return true;
        return false;
    }

    /// <summary>The last stage of the step that reads a value (-1: none): in backward, the first to add to its gradient.</summary>
    private int LastReader(Location at)
    {
        for (int i = stages.Length - 1; i >= 0; i--)
            if (stages[i] is Product p ? p.Input == at : ((Group)stages[i]).Externals.Contains(at)) return i;
        return -1;
    }

    /// <summary>Where result k at time t sits in the token's stacks (its gradient, its tangent), for a pass of <paramref name="steps"/>.</summary>
    private int StackOffset(int k, int steps, int t) => steps * stackStart[k] + t * results[k].Length;

    /// <summary>A recorded pass's inputs after the projected inputs (its entry's Aux): the initial states, then the step's constants.</summary>
    /// <remarks>The recorded pass's own arrays when the entry hands back what it recorded (the usual case), so backward makes none.</remarks>
    private (Tensor<T>[] Initial, TensorBase[] Constants) Split(TensorBase[] aux, Recorded run) => ReferenceEquals(aux, run.Aux)
        ? (run.Initial, run.Constants) : ([.. aux[..StateCount].Cast<Tensor<T>>()], aux[StateCount..]);

    /// <summary>A group's generated kernel stores each result it computes into its stack as well; the rest are copied after the step (see <see cref="Pass.ForwardCopies"/>).</summary>
    private ((T[]?, int)[]?[] Copies, bool[] Copied) CopiesOf(Pass pass)
    {
        var copies = new (T[]?, int)[]?[stages.Length];
        var copied = new bool[results.Length];
        for (int k = 0; k < results.Length; k++)
        {
            if (stackOf[k] != k || resultOutput[k] < 0 || !pass.CopiesOutputs(results[k].Index)) continue;
            copied[k] = true;
            copies[results[k].Index] ??= new (T[]?, int)[((Group)stages[results[k].Index]).Fused.OutputMembers.Length];
        }
        return (copies, copied);
    }

    private Pass? idlePass;   // the object of the last pass that ended, for the next one (see Pass)

    /// <summary>A pass over these buffers: the sequence's idle pass object if it has one (none while another pass runs), else a new one.</summary>
    private Pass StartPass(Tensor<T> token, Tensor<T> stepInputs, Tensor<T>[] initial, TensorBase[] constants, int steps, bool record, bool reverse, Chunks chunks)
    {
        var pass = Interlocked.Exchange(ref idlePass, null) ?? new Pass(this);
        pass.Begin(token, stepInputs, initial, constants, steps, record, reverse, chunks);
        return pass;
    }

    private ExternalSpan<T>[]?[] Spans() => [.. stages.Select(s => s is Group g ? new ExternalSpan<T>[g.Externals.Length] : null)];

    /// <summary>The backward of a recorded pass: the steps in reverse, two steps' gradients at a time.</summary>
    internal void Backward(Tensor<T> token, Tensor<T> stepInputs, TensorBase[] aux, Recorded run)
    {
        var (initial, constants) = Split(aux, run);
        using var pass = StartPass(token, stepInputs, initial, constants, run.Steps, record: true, run.Reverse, run.Chunks);
        var spans = pass.Spans;
        // Only states shown to the caller that retain their gradient get one (most passes show only the final state, if that).
        ILookup<int, Tensor<T>[]>? shownAt = null;
        foreach (var (_, states) in run.Shown)
            if (Array.Exists(states, s => s.RetainsGradient))
            {
                shownAt = run.Shown.ToLookup(s => s.Time, s => s.States);
                break;
            }
        pass.OpenGradients(run.StackReached, run.Stacks);
        try
        {
            for (int n = run.Steps - 1; n >= 0; n--)
            {
                pass.Enter(n);
                pass.SeedStep();
                for (int i = stages.Length - 1; i >= 0; i--)
                {
                    if (stages[i] is Product p) pass.Backward(p, i);
                    else pass.Backward((Group)stages[i], i, spans[i]!);
                }
                // The step's own gradients are complete now (every reader of its values, within the step or after it, has added its share).
                if (shownAt is not null)
                    foreach (var states in shownAt[pass.Time]) pass.Retain(states);
            }
            pass.FlushWeightGradients();
        }
        finally
        {
            pass.CloseGradients();
        }
    }

    /// <summary>
    /// Forward mode through a recorded pass, unrecorded: the token's tangent (its results' stacks) from the tangents of
    /// the projected inputs, the initial state and the constants, one step at a time with two steps' tangents, each
    /// product by the product rule and each fused group's instructions through their primitives' declared derivatives.
    /// Null when no input carries a tangent.
    /// </summary>
    internal Tensor<T>? Tangent(Tensor<T> token, Tensor<T> stepInputs, TensorBase[] aux, Recorded run, Tangents tangents)
    {
        var (initial, constants) = Split(aux, run);
        var tangentOf = new TangentInputs(tangents.Of<T>(stepInputs), [.. initial.Select(tangents.Of<T>)], [.. constants.Select(tangents.Of<T>)]);
        if (tangentOf.Step is null && tangentOf.Initial.All(t => t is null) && tangentOf.Constants.All(t => t is null)) return null;
        using var pass = StartPass(token, stepInputs, initial, constants, run.Steps, record: true, run.Reverse, run.Chunks);
        var result = Tensor.Zeros<T>(run.Steps * stackWidth);
        var (spans, values) = (pass.Spans, pass.TangentValueSpans);
        var reached = stages.Select(s => s is Group g ? new bool[g.Fused.SlotOffsets.Length] : null).ToArray();
        pass.OpenTangents(tangentOf);
        try
        {
            pass.PrepareWeightTerms();
            for (int n = 0; n < run.Steps; n++)
            {
                pass.Enter(n);
                pass.ClearTangents();
                for (int i = 0; i < stages.Length; i++)
                {
                    if (stages[i] is Product p) pass.Tangent(p, i);
                    else pass.Tangent((Group)stages[i], values[i]!, spans[i]!, reached[i]!);
                }
                for (int k = 0; k < results.Length; k++)
                    if (stackOf[k] == k) pass.TangentOfResult(results[k]).CopyTo(result.Data.AsSpan(StackOffset(k, run.Steps, pass.Time)));
            }
        }
        finally
        {
            pass.CloseTangents();
        }
        return result;
    }

    /// <summary>The tangents of a pass's inputs (null: zero).</summary>
    private sealed record TangentInputs(Tensor<T>? Step, Tensor<T>?[] Initial, Tensor<T>?[] Constants);

    /// <summary>
    /// The token as tensor operations: every step run by the compiled program on real tensors (recorded when gradients
    /// are enabled), its distinct results stacked over time and concatenated. A recorded tangent and the differentiable
    /// backward of <see cref="SequenceRule{T}"/> go through it.
    /// </summary>
    internal Tensor<T> Rebuild(Tensor<T> stepInputs, TensorBase[] aux, Recorded run)
    {
        var (initial, constants) = Split(aux, run);
        int steps = run.Steps;
        var produced = new Tensor<T>[results.Length][];
        for (int k = 0; k < produced.Length; k++) produced[k] = new Tensor<T>[steps];
        var state = initial;
        for (int n = 0; n < steps; n++)
        {
            int t = run.Reverse ? steps - 1 - n : n;
            if (run.Chunks.Crosses(run.Reverse, n, t)) state = [.. state.Select(s => s.Detach())];
            var step = program.Run([stepInputs.Select(0, t), .. state], constants);
            for (int k = 0; k < step.Length; k++) produced[k][t] = step[k];
            state = step[..StateCount];
        }
        var parts = new List<Tensor<T>>();
        for (int k = 0; k < results.Length; k++)
            if (stackOf[k] == k) parts.Add(Tensor.Stack(0, produced[k]).Reshape(-1));
        return parts.Count == 1 ? parts[0] : Tensor.Concat(0, [.. parts]);
    }

    /// <summary>One pass over the saved values (forward or backward): where each value of the current step lives.</summary>
    /// <remarks>
    /// One object serves pass after pass of its sequence (<see cref="StartPass"/>): its blocks, spans and per-stage arrays
    /// are made once, so a steady-state iteration allocates none of them (at W3 they were 3 of its 6.5 KB).
    /// </remarks>
    private sealed class Pass(CompiledSequence<T> plan) : IDisposable
    {
        private Tensor<T> token = null!, stepInputs = null!;
        private Tensor<T>[] initial = [];
        private TensorBase[] constants = [];
        private int steps;
        private bool record, reverse;
        private Chunks chunks;
        private T[] values = [];
        private T[] scratch = [];   // the values of a step that are not kept (contents: anything)
        private readonly GroupBlocks<T>?[] blocks = new GroupBlocks<T>?[plan.stages.Length];

        /// <summary>Per group stage, the spans of its externals (set at each step where a group runs on the general path).</summary>
        public ExternalSpan<T>[]?[] Spans { get; } = plan.Spans();

        /// <summary>Per group stage, the spans of its externals' values in forward mode (<see cref="Spans"/> holds their tangents).</summary>
        public ExternalSpan<T>[]?[] TangentValueSpans => tangentValueSpans ??= plan.Spans();
        private ExternalSpan<T>[]?[]? tangentValueSpans;

        /// <summary>Sets the pass up over a token and its inputs; blocks made under other settings (threads, kernels) are made anew.</summary>
        public void Begin(Tensor<T> token, Tensor<T> stepInputs, Tensor<T>[] initial, TensorBase[] constants, int steps, bool record, bool reverse, Chunks chunks)
        {
            (this.token, this.stepInputs, this.initial, this.constants) = (token, stepInputs, initial, constants);
            (this.steps, this.record, this.reverse, this.chunks) = (steps, record, reverse, chunks);
            (values, scratch) = (token.Data, Scratch<T>.Rent(plan.scratchSize));
            for (int i = 0; i < blocks.Length; i++)
                if (plan.stages[i] is Group g && blocks[i]?.MadeForCurrentSettings != true)
                {
                    blocks[i] = new GroupBlocks<T>(g.Fused);
                    forwardCopies = null;
                }
        }

        /// <summary>Gives the scratch back, lets go of every array and tensor of the pass, and leaves the object to the sequence's next pass.</summary>
        public void Dispose()
        {
            Scratch<T>.Return(scratch);
            (token, stepInputs, initial, constants, values, scratch) = (null!, null!, [], [], [], []);
            (resultGradients, stacks, stepInputGradients, clearStepInputRows, tangentInputs) = ([], [], null, false, null);
            Array.Clear(initialGradients);
            Array.Clear(constantGradients);
            Array.Clear(batches);
            foreach (var block in blocks) block?.Release();
            foreach (var spans in Spans) if (spans is not null) Array.Clear(spans);
            foreach (var spans in tangentValueSpans ?? []) if (spans is not null) Array.Clear(spans);
            foreach (var copies in forwardCopies?.Copies ?? []) if (copies is not null) Array.Clear(copies);
            sideFlush?.Release();
            Interlocked.CompareExchange(ref plan.idlePass, this, null);
        }

        /// <summary>
        /// Per group stage, where its generated kernel also stores the results it computes (an array per output, set at
        /// each step; null where none), and per result whether it is stored so (the rest are copied after the step).
        /// </summary>
        public ((T[]?, int)[]?[] Copies, bool[] Copied) ForwardCopies => forwardCopies ??= plan.CopiesOf(this);
        private ((T[]?, int)[]?[] Copies, bool[] Copied)? forwardCopies;
        private int region, previous;   // the current step's place in the saved values and the previous step's (-1: the initial state)
        private bool detached;          // the state entering this step is detached (DetachEvery)

        // Backward: the token's gradient (the results' stacks), two steps' gradients (this step's and the one before,
        // which this step's state inputs reach), the inputs' gradients, and per product the rows of a batch of steps for
        // its weight gradient.
        private T[] resultGradients = [], gradients = [];
        private T[][] stacks = [];          // per result, its stack's storage (the states over time)
        private T[]? stepInputGradients;
        private bool clearStepInputRows;   // the step inputs' gradient was fresh: each step clears its own rows, see OpenGradients
        private T[]?[] initialGradients = [], constantGradients = [];
        private int n;
        private (T[] Dy, T[] A, int Steps)[] batches = [];

        /// <summary>The current step's time position.</summary>
        public int Time { get; private set; }

        public void Enter(int step)
        {
            n = step;
            Time = reverse ? steps - 1 - n : n;
            // A recorded pass keeps every step (at its time position); an unrecorded one alternates between two places.
            region = record ? Time : n % 2;
            previous = n == 0 ? -1 : record ? (reverse ? Time + 1 : Time - 1) : (n - 1) % 2;
            detached = chunks.Crosses(reverse, n, Time);
        }

        public (T[] Array, int Offset) ValueAt(Location at) => at.Kind switch
        {
            Place.StepInput => (stepInputs.Data, Time * at.Length),
            Place.State => previous < 0 ? (initial[at.Index].Data, 0) : ValueOf(plan.results[at.Index], previous),
            Place.Stage => ValueOf(at, region),
            _ => (((Tensor<T>)constants[at.Index]).Data, 0),
        };

        // A stage value of the step kept at a place of the saved values, or in scratch.
        private (T[] Array, int Offset) ValueOf(Location at, int place)
        {
            var stage = plan.stages[at.Index];
            return at.Offset < stage.SavedSize ? (values, place * plan.savedStepSize + stage.SavedPrefix + at.Offset)
                : (scratch, stage.ScratchPrefix + at.Offset - stage.SavedSize);
        }

        private int OffsetOf(Location at) => plan.stages[at.Index].Prefix + at.Offset;

        // This step's gradients are at (n % 2), the previous step's at ((n - 1) % 2).
        private (T[]? Array, int Offset) GradientAt(Location at) => at.Kind switch
        {
            Place.StepInput => (InputGradient(stepInputs, ref stepInputGradients), Time * at.Length),
            Place.State => detached ? (null, 0) : n == 0 ? (InputGradient(initial[at.Index], ref initialGradients[at.Index]), 0) : (gradients, (n - 1) % 2 * plan.stepSize + OffsetOf(plan.results[at.Index])),
            Place.Stage => handling.Batched[at.Index] ? (batches[at.Index].Dy, BatchRow(at.Index) + at.Offset) : (gradients, n % 2 * plan.stepSize + OffsetOf(at)),
            _ => (InputGradient((Tensor<T>)constants[at.Index], ref constantGradients[at.Index]), 0),
        };

        // How this pass handles its gradients (planned once per sequence, see GradientPlanFor): a product whose weight
        // needs a gradient keeps its output's gradient for this step in its batch of steps, where its readers add to it
        // and its deep weight-gradient product reads it (instead of a copy per step).
        private GradientPlan handling = null!;

        private int BatchRow(int stage) => BatchSlot(stage, batches[stage].Steps) * plan.stages[stage].Size;

        // A batch's rows are in time order whichever way the pass runs (backward visits a forward pass's steps latest
        // first, so it fills the batch from its end), as the rows of the states and step inputs its products read lie
        // in their stacks: the weight gradient's product reads those in place (see BatchInputRows).
        private int BatchSlot(int stage, int added) => reverse ? added : batchSteps[stage] - 1 - added;

        // The slot of the earliest time among a batch's first `count` steps.
        private int FirstSlot(int stage, int count) => reverse ? 0 : batchSteps[stage] - count;

        // Opened when first reached, as a rule of the stepped pass would: an input nothing reads gets no gradient.
        private static T[]? InputGradient(Tensor<T> input, ref T[]? gradient) =>
            gradient ??= input.RequiresGrad ? input.GradSink().ZeroedArray() : null;

        public void Forward(Product p)
        {
            var (a, aOffset) = ValueAt(p.Input);
            var w = (Tensor<T>)constants[p.Weight];
            var (y, z) = p.SavedSize > 0 ? (values, region * plan.savedStepSize + p.SavedPrefix) : (scratch, p.ScratchPrefix);
            // As Linear: each row starts from the bias (the same operations, so the same bits).
            Gemm.Run(a, aOffset, false, w.Data, 0, true, y, z, p.Rows, p.Out, p.In, accumulate: false, constantB: w.IsLeaf,
                bias: p.Bias >= 0 ? ((Tensor<T>)constants[p.Bias]).Data : null);
        }

        public void Forward(Group g, int stage, ExternalSpan<T>[] spans, (T[]?, int)[]? copies = null)
        {
            var block = blocks[stage]!;
            if (block.Direct)
            {
                block.SetArena(values, region * plan.savedStepSize + g.SavedPrefix, scratch, g.ScratchPrefix, null, 0);
                for (int k = 0; k < g.Externals.Length; k++)
                {
                    var (array, offset) = ValueAt(g.Externals[k]);
                    block.SetExternal(k, array, offset, null, 0);
                }
                for (int j = 0; j < g.Fused.OutputMembers.Length; j++) block.SetCopy(j, copies?[j].Item1, copies?[j].Item2 ?? 0);
                block.RunForward();
                return;
            }
            for (int k = 0; k < spans.Length; k++)
            {
                var (array, offset) = ValueAt(g.Externals[k]);
                spans[k] = new ExternalSpan<T>(array, offset, g.Externals[k].Length);
            }
            blocks[stage]!.Forward(values, region * plan.savedStepSize + g.SavedPrefix, scratch, g.ScratchPrefix, spans, copies);
        }

        /// <summary>Whether a group stage's forward stores its outputs where it is told as well (<see cref="GroupBlocks{T}.CopiesOutputs"/>).</summary>
        public bool CopiesOutputs(int stage) => blocks[stage]?.CopiesOutputs == true;

        // Forward mode: two steps' tangents (this step's at n % 2) and the inputs' tangents.
        private T[] tangentValues = [];
        private TangentInputs? tangentInputs;

        public void OpenTangents(TangentInputs inputs)
        {
            tangentInputs = inputs;
            tangentValues = BufferPool<T>.RentZeroed(2 * plan.stepSize);
        }

        public void CloseTangents()
        {
            if (tangentValues.Length > 0) BufferPool<T>.Return(tangentValues);
            tangentValues = [];
            foreach (var terms in weightTerms)
                if (terms is not null) BufferPool<T>.Return(terms);
            weightTerms = [];
        }

        public void ClearTangents() => tangentValues.AsSpan(n % 2 * plan.stepSize, plan.stepSize).Clear();

        // Where an operand's tangent is (null: zero, as for a detached state or an input or constant that carries none).
        private (T[]? Array, int Offset) TangentOf(Location at) => at.Kind switch
        {
            Place.StepInput => (tangentInputs!.Step?.Data, Time * at.Length),
            Place.State => detached ? (null, 0) : n == 0 ? (tangentInputs!.Initial[at.Index]?.Data, 0)
                : (tangentValues, (n - 1) % 2 * plan.stepSize + OffsetOf(plan.results[at.Index])),
            Place.Stage => (tangentValues, n % 2 * plan.stepSize + OffsetOf(at)),
            _ => (tangentInputs!.Constants[at.Index]?.Data, 0),
        };

        public ReadOnlySpan<T> TangentOfResult(Location at) => TangentOf(at) is (T[] array, int offset) ? array.AsSpan(offset, at.Length) : default;

        private ExternalSpan<T> TangentSpan(Location at) => TangentOf(at) is (T[] array, int offset) ? new(array, offset, at.Length) : default;

        // The a dW^T term of every step at once (it needs no tangent of an earlier step): the steps' rows of a stacked
        // into one deep product per weight, where one shallow product per step cost as much as the rest of the pass.
        private T[]?[] weightTerms = [];

        public void PrepareWeightTerms()
        {
            weightTerms = new T[]?[plan.stages.Length];
            for (int i = 0; i < plan.stages.Length; i++)
            {
                if (plan.stages[i] is not Product p || tangentInputs!.Constants[p.Weight] is not { } tw) continue;
                var rows = Scratch<T>.Rent(steps * p.Rows * p.In);
                for (int step = 0; step < steps; step++)
                {
                    Enter(step);
                    var (a, offset) = ValueAt(p.Input);
                    a.AsSpan(offset, p.Rows * p.In).CopyTo(rows.AsSpan(step * p.Rows * p.In));
                }
                var terms = weightTerms[i] = BufferPool<T>.Rent(steps * p.Rows * p.Out);
                Gemm.Run(rows, 0, false, tw.Data, 0, true, terms, 0, steps * p.Rows, p.Out, p.In, accumulate: false);
                Scratch<T>.Return(rows);
            }
        }

        // dy = da W^T + a dW^T + db: each term where its tangent is not zero, into the cleared slot.
        public void Tangent(Product p, int stage)
        {
            var w = (Tensor<T>)constants[p.Weight];
            int z = n % 2 * plan.stepSize + p.Prefix, size = p.Rows * p.Out;
            if (weightTerms[stage] is { } terms) terms.AsSpan(n * size, size).CopyTo(tangentValues.AsSpan(z, size));
            if (TangentOf(p.Input) is (T[] ta, int offset))
                Gemm.Run(ta, offset, false, w.Data, 0, true, tangentValues, z, p.Rows, p.Out, p.In, accumulate: true, constantB: w.IsLeaf);
            if (p.Bias >= 0 && tangentInputs!.Constants[p.Bias] is { } tb)
                for (int r = 0; r < p.Rows; r++)
                {
                    var row = tangentValues.AsSpan(z + r * p.Out, p.Out);
                    TP.Add(row, tb.Data, row);
                }
        }

        public void Tangent(Group g, ExternalSpan<T>[] values, ExternalSpan<T>[] spans, bool[] reached)
        {
            for (int k = 0; k < spans.Length; k++)
            {
                var (array, offset) = ValueAt(g.Externals[k]);
                values[k] = new ExternalSpan<T>(array, offset, g.Externals[k].Length);
                spans[k] = TangentSpan(g.Externals[k]);
            }
            Array.Clear(reached);
            var frame = new GroupFrame<T>(this.values.AsSpan(region * plan.savedStepSize + g.SavedPrefix, g.SavedSize), scratch.AsSpan(g.ScratchPrefix, g.Size - g.SavedSize),
                default, values, g.Fused, 0, g.Fused.Rows);
            var tangent = new TangentFrame<T>(tangentValues.AsSpan(n % 2 * plan.stepSize + g.Prefix, g.Size), reached, spans, g.Fused);
            foreach (var instruction in g.Fused.Program) instruction.Tangent(frame, tangent);
        }

        /// <summary>Backward's gradient arrays: the token's, two steps' (from the pool) and those of the inputs that need one.</summary>
        public void OpenGradients(bool[] reached, T[][] stackData)
        {
            stacks = stackData;
            resultGradients = token.GradData!;
            int count = 0;
            for (int k = 0; k < plan.results.Length; k++)
                if (plan.stackOf[k] == k && reached[k]) count++;
            if (seeded.Length != count) seeded = new int[count];
            for (int k = 0, j = 0; k < plan.results.Length; k++)
                if (plan.stackOf[k] == k && reached[k]) seeded[j++] = k;
            // Nothing else has written the step inputs' gradient yet (the usual case: the hoisted projection's output):
            // each step clears its own rows just before adding into them, while they are in cache, instead of a
            // zero-fill of the whole [T, B, 4H] array here that every step reads back from memory.
            if (plan.readsStepInput && stepInputs.RequiresGrad && stepInputGradients is null)
            {
                var sink = stepInputs.GradSink();
                (stepInputGradients, clearStepInputRows) = (sink.Array, sink.Overwrite);
            }
            gradients = BufferPool<T>.RentZeroed(2 * plan.stepSize);
            if (initialGradients.Length != initial.Length) initialGradients = new T[]?[initial.Length];
            if (constantGradients.Length != constants.Length) constantGradients = new T[]?[constants.Length];
            if (batches.Length == 0) (batchSteps, batches) = (new int[plan.stages.Length], new (T[], T[], int)[plan.stages.Length]);
            for (int i = 0; i < plan.stages.Length; i++)
            {
                batchSteps[i] = plan.stages[i] is Product p ? BatchSteps(p) : 0;
                batches[i] = plan.stages[i] is Product q && constants[q.Weight].RequiresGrad
                    ? (BufferPool<T>.Rent(batchSteps[i] * q.Rows * q.Out), BufferPool<T>.Rent(batchSteps[i] * q.Rows * q.In), 0) : ([], [], 0);
            }
            // A weight-gradient product large enough to be split over threads runs as a side job instead (see Flush),
            // with a second pair of batch buffers that the next steps fill meanwhile.
            for (int i = 0; i < plan.stages.Length; i++)
                if (plan.stages[i] is Product p && batches[i].Dy.Length > 0 && Gemm.ThreadsFor(p.Out, p.In, batchSteps[i] * p.Rows) > 1
                    && !plan.GroupsReadConstant(p.Weight))
                {
                    if (spares.Length == 0) spares = new (T[] Dy, T[] A)?[plan.stages.Length];
                    spares[i] = (BufferPool<T>.Rent(batches[i].Dy.Length), BufferPool<T>.Rent(batches[i].A.Length));
                    sideFlush ??= new SideFlush();
                }
            handling = plan.GradientPlanFor(batches, clearStepInputRows, blocks);
        }

        public void CloseGradients()
        {
            // A weight-gradient product still running reads the batch buffers (a failure already ended the pass, or is
            // thrown by FlushWeightGradients).
            sideFlush?.Wait(rethrow: false);
            if (gradients.Length > 0) BufferPool<T>.Return(gradients);
            foreach (var (dy, a, _) in batches)
                if (dy.Length > 0)
                {
                    BufferPool<T>.Return(dy);
                    BufferPool<T>.Return(a);
                }
            foreach (var spare in spares)
                if (spare is var (dy, a))
                {
                    BufferPool<T>.Return(dy);
                    BufferPool<T>.Return(a);
                }
            Array.Clear(spares);
            gradients = [];
        }

        // Steps per deep weight-gradient product: about 256 rows, so its depth keeps a register tile busy (one step of
        // W4 has a single row), while the batch stays a small fraction of the pass.
        private int BatchSteps(Product p) => Math.Clamp(256 / p.Rows, 1, steps);
        private int[] batchSteps = [];   // per product stage, BatchSteps (so a step's slot arithmetic has no division)

        /// <summary>
        /// Enters this step's gradients: the previous step's place cleared (this step's state inputs add into it), and
        /// the gradients that reached the stacked results at this time added to the results' slots. Only the parts that
        /// readers outside their stage add to are cleared; a group's blocks clear its inner gradients.
        /// </summary>
        public void SeedStep()
        {
            if (n == steps - 1) ClearFed(n % 2, handling.Fed);
            if (n > 0) ClearFed((n - 1) % 2, detached ? handling.Fed : handling.FedUnlessStatesWritten);
            for (int i = 0; i < handling.Batched.Length; i++)
                if (handling.Batched[i] && !handling.WrittenFresh[i]) batches[i].Dy.AsSpan(BatchRow(i), plan.stages[i].Size).Clear();
            if (clearStepInputRows && !handling.StepInputWrittenFresh)
            {
                int rows = stepInputs.Size / steps;
                stepInputGradients.AsSpan(Time * rows, rows).Clear();
            }
            foreach (int k in seeded)
            {
                var slot = ResultGradient(k);
                Kernels.AddInto<T>(slot, resultGradients.AsSpan(plan.StackOffset(k, steps, Time), slot.Length));
            }
        }

        private int[] seeded = [];   // the results with their own stack whose gradients reached it: each step adds them in

        private void ClearFed(int place, (int, int)[] ranges)
        {
            foreach (var (offset, length) in ranges) gradients.AsSpan(place * plan.stepSize + offset, length).Clear();
        }

        // Whether this step's state inputs get their gradients in the previous step's place, where the plan lets the
        // first stage to reach a state's gradient write it (see GradientPlan).
        private bool StatesWrittenFresh => n > 0 && !detached;

        private Span<T> ResultGradient(int k) => gradients.AsSpan(n % 2 * plan.stepSize + OffsetOf(plan.results[k]), plan.results[k].Length);

        /// <summary>Hands each retaining state shown at this time its total gradient.</summary>
        public void Retain(Tensor<T>[] states)
        {
            for (int k = 0; k < states.Length; k++)
                if (states[k].RetainsGradient) states[k].Grad = new Tensor<T>((int[])states[k].Dims.Clone(), ResultGradient(k).ToArray());
        }

        public void Backward(Group g, int stage, ExternalSpan<T>[] spans)
        {
            var block = blocks[stage]!;
            if (block.Direct)
            {
                block.SetArena(values, region * plan.savedStepSize + g.SavedPrefix, scratch, g.ScratchPrefix, gradients, n % 2 * plan.stepSize + g.Prefix);
                for (int k = 0; k < g.Externals.Length; k++)
                {
                    var (array, offset) = ValueAt(g.Externals[k]);
                    var (gradient, gradientOffset) = GradientAt(g.Externals[k]);
                    block.SetExternal(k, array, offset, gradient, gradientOffset);
                }
                block.RunBackward(StatesWrittenFresh ? handling.FreshWithStates[stage] : handling.Fresh[stage]);
                return;
            }
            for (int k = 0; k < spans.Length; k++)
            {
                var (array, offset) = ValueAt(g.Externals[k]);
                var (gradient, gradientOffset) = GradientAt(g.Externals[k]);
                spans[k] = new ExternalSpan<T>(array, offset, g.Externals[k].Length, gradient, gradientOffset);
            }
            blocks[stage]!.Backward(values, region * plan.savedStepSize + g.SavedPrefix, scratch, g.ScratchPrefix, gradients, n % 2 * plan.stepSize + g.Prefix, spans,
                StatesWrittenFresh ? handling.FreshWithStates[stage] : handling.Fresh[stage]);
        }

        // y = a W^T + b: da += dy W now (the step before needs it); db += the rows of dy; dW += dy^T a over a batch of
        // steps (their rows stacked), one deep product instead of one per step.
        public void Backward(Product p, int stage)
        {
            var w = (Tensor<T>)constants[p.Weight];
            var (dy, dyOffset) = GradientAt(new Location(Place.Stage, stage, 0, p.Size));   // in its batch, or this step's gradients
            dy ??= gradients;
            // The bias first, while dy is in cache from the group that wrote it: the product streams the packed weight
            // through the cache (W1: 4 MB a step), after which dy comes from memory (the sum took 22 against 9 us).
            if (p.Bias >= 0 && InputGradient((Tensor<T>)constants[p.Bias], ref constantGradients[p.Bias]) is { } db)
                Kernels.AddRows<T>(dy.AsSpan(dyOffset, p.Rows * p.Out), db.AsSpan(0, p.Out));
            var (da, offset) = GradientAt(p.Input);
            if (da is not null)
                Gemm.Run(dy, dyOffset, false, w.Data, 0, false, da, offset, p.Rows, p.In, p.Out,
                    accumulate: !(StatesWrittenFresh && handling.OverwritesInput[stage]), constantB: w.IsLeaf);
            if (batches[stage] is not { Dy.Length: > 0 } batch) return;
            if (!handling.Batched[stage]) dy.AsSpan(dyOffset, p.Rows * p.Out).CopyTo(batch.Dy.AsSpan(BatchRow(stage)));
            if (p.Input.Kind == Place.Stage)
            {
                var (a, aOffset) = ValueAt(p.Input);
                a.AsSpan(aOffset, p.Rows * p.In).CopyTo(batch.A.AsSpan(BatchSlot(stage, batch.Steps) * p.Rows * p.In));
            }
            batches[stage].Steps++;
            if (batches[stage].Steps == batchSteps[stage]) Flush(p, stage);
        }

        /// <summary>
        /// The rows a product read at the batch's steps, in time order, for its weight gradient: in place where they lie
        /// so in memory (the step inputs at those times; the states, which the pass's stacks hold, unless the batch holds
        /// the first step, which read the initial state); otherwise in the batch's own rows, copied at each step (a value
        /// of the step) or here (the states with the initial one).
        /// </summary>
        /// <remarks>
        /// Called right after the step of the batch's earliest step number, n (a batch of a forward pass ends at its
        /// earliest time, one of a reversed pass at its latest). At W1 the copies were 128 KB a step, read from memory
        /// on the calling thread while the worker waited.
        /// </remarks>
        private (T[] Array, int Offset) BatchInputRows(Product p, int stage, int count)
        {
            int size = p.Rows * p.In, earliest = reverse ? steps - n - count : n;   // the batch's earliest time
            var batch = batches[stage];
            if (p.Input.Kind == Place.StepInput) return (stepInputs.Data, earliest * size);
            if (p.Input.Kind == Place.Stage) return (batch.A, FirstSlot(stage, count) * size);
            var stack = stacks[p.Input.Index];
            int before = reverse ? 1 : -1;   // the time of the state a step reads, relative to the step's
            if (n > 0) return (stack, (earliest + before) * size);
            for (int j = 0; j < count; j++)
            {
                int time = earliest + j;
                bool first = time == (reverse ? steps - 1 : 0);
                var row = first ? initial[p.Input.Index].Data.AsSpan(0, size) : stack.AsSpan((time + before) * size, size);
                row.CopyTo(batch.A.AsSpan((FirstSlot(stage, count) + j) * size));
            }
            return (batch.A, FirstSlot(stage, count) * size);
        }

        public void FlushWeightGradients()
        {
            for (int i = 0; i < plan.stages.Length; i++)
                if (plan.stages[i] is Product p && batches[i].Steps > 0) Flush(p, i);
            sideFlush?.Wait();
        }

        // Per product stage, the second pair of batch buffers (dy rows, input rows) where its weight-gradient products run
        // as side jobs; null where they run on the calling thread.
        private (T[] Dy, T[] A)?[] spares = [];
        private SideFlush? sideFlush;

        /// <summary>
        /// dW += dy^T a over the batch's steps. Where the product would be split over threads it runs instead as a side
        /// job on a worker (<see cref="WorkerTeam.TryPostSideJob"/>) while this thread goes on with the next steps, whose
        /// rows go to the product's other pair of batch buffers; each weight-gradient product waits for the one before,
        /// so a weight's gradient gets its batches added in the same order, with the same bits, as on one thread.
        /// </summary>
        /// <remarks>
        /// Measured at W1 on two threads (2026-12-07): the per-step chain of backward (dL/dh's product and the group's
        /// kernel) and the weight gradient's products each take about as long on one thread; shared over two threads
        /// one product at a time, the 2048 x 512 x 256 products ran at 1.4 times one thread's speed.
        /// </remarks>
        private void Flush(Product p, int stage)
        {
            sideFlush?.Wait();   // the previous batch (of this weight, perhaps) is added first
            int count = batches[stage].Steps;
            var (a, aOffset) = BatchInputRows(p, stage, count);
            var dw = InputGradient((Tensor<T>)constants[p.Weight], ref constantGradients[p.Weight])!;
            int dyOffset = FirstSlot(stage, count) * p.Rows * p.Out;
            batches[stage].Steps = 0;
            if (stage < spares.Length && spares[stage] is var (spareDy, spareA) && sideFlush is { } side)
            {
                side.Set(batches[stage].Dy, dyOffset, a, aOffset, dw, p.Out, p.In, count * p.Rows);
                if (WorkerTeam.TryPostSideJob(side))
                {
                    spares[stage] = (batches[stage].Dy, batches[stage].A);
                    (batches[stage].Dy, batches[stage].A) = (spareDy, spareA);
                    return;
                }
            }
            Gemm.Run(batches[stage].Dy, dyOffset, true, a, aOffset, false, dw, 0, p.Out, p.In, count * p.Rows, accumulate: true);
        }

        /// <summary>One weight-gradient product as a side job: one object per pass, set anew for each batch.</summary>
        private sealed class SideFlush : SideJob
        {
            private T[] dy = [], a = [], dw = [];
            private int dyOffset, aOffset, m, n, k;

            public void Set(T[] dy, int dyOffset, T[] a, int aOffset, T[] dw, int m, int n, int k) =>
                (this.dy, this.dyOffset, this.a, this.aOffset, this.dw, this.m, this.n, this.k) = (dy, dyOffset, a, aOffset, dw, m, n, k);

            public override void Run() => Gemm.Run(dy, dyOffset, true, a, aOffset, false, dw, 0, m, n, k, accumulate: true);

            /// <summary>Lets go of the last batch's arrays (the object outlives its pass, see Pass).</summary>
            public void Release() => (dy, a, dw) = ([], [], []);
        }
    }
}
