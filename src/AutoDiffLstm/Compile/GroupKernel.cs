using System.Linq.Expressions;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static System.Linq.Expressions.Expression;

namespace AutoDiffLstm;

/// <summary>
/// A fused group's program compiled to one loop over rows, forward and backward, generated at run time
/// (System.Linq.Expressions, JIT-compiled) from the same instructions the interpreter runs: each primitive through the
/// vector form of its own formula (<see cref="IElementwiseKernel{T}.VectorForm"/>), so nothing here knows any cell.
/// </summary>
/// <remarks>
/// Why: run instruction by instruction, a small group spends most of its time between instructions (W3, B = 8, H = 32:
/// 14 instructions over 256 to 1,024 values, about 2.6 us a step forward and backward), and every value goes through
/// memory. Here, per row:
/// <list type="bullet">
/// <item>consecutive elementwise instructions of one width form a run, one loop over the row's vectors in which values
/// stay in registers; a value is stored only when backward reads it, the step returns it, or another run reads it;</item>
/// <item>slicing (Narrow) and broadcasting (Expand) generate no code: their readers read the source in place, and a
/// slice backward reads is copied out once; a value read only through slices that tile it is computed where each
/// slice is read and never stored (an LSTM's pre-activations);</item>
/// <item>backward walks the runs in reverse with each value's gradient in a register, starting from what readers
/// outside the run have added to memory; a gradient that gets exactly one contribution per element is written
/// (0 + c) rather than added to a cleared buffer, and so are the externals' gradients the caller marks fresh; a
/// broadcast's sum over rows runs afterwards, instruction by instruction (<see cref="GroupBlocks{T}"/>);</item>
/// <item>the JIT inlines a few hundred calls into one method and then stops, so long programs are cut into several
/// methods (at run boundaries, values between them in memory) and short loops are unrolled only a little.</item>
/// </list>
/// Every element sees the same operations in the same order as in the interpreter (gradients add their contributions
/// in reverse program order, starting from memory), so the bits are the interpreter's; <c>GroupKernelTests</c> checks
/// that for every registered cell. Vectors are 512 bits (hardware-accelerated only); a group falls back to the
/// interpreter, with its reason in <see cref="FusedGroup{T}.Describe"/>, when a primitive has no vector form for T, a
/// row is not whole vectors, or an instruction is a concatenation or a per-row broadcast.
/// </remarks>
internal sealed class GroupKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Tests turn generated kernels off to compare them with the interpreter.</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>The memory a kernel reads and writes: stream k is <c>arrays[k]</c> from <c>offsets[k]</c> (the group's row 0).</summary>
    internal delegate void Body(T[]?[] arrays, int[] offsets, bool[] fresh, int rowStart, int rows);

    /// <summary>The streams: the arena's kept part, its scratch part, the arena's gradients, then per external its values and its gradient (null: none).</summary>
    public const int Kept = 0, Scratch = 1, Gradients = 2;

    public static int ExternalValues(int k) => 3 + 2 * k;

    public static int ExternalGradients(int k) => 4 + 2 * k;

    private readonly Body forward, backward;
    private readonly int[] forwardExtent, backwardExtent;   // per stream, the values past its offset a pass touches (0: none)

    /// <summary>The number of streams (3 + 2 per external).</summary>
    public int Streams => forwardExtent.Length;

    /// <summary>How the group runs, for <see cref="FusedGroup{T}.Describe"/>.</summary>
    public string Summary { get; private set; }

    /// <summary>The inner slots whose gradients must be zero before backward (those it adds to in memory), and their places merged into ranges.</summary>
    public int[] ClearedSlots { get; }

    /// <inheritdoc cref="ClearedSlots"/>
    public (int Offset, int Length)[] ClearedRanges { get; }

    private GroupKernel(Body forward, Body backward, int[] forwardExtent, int[] backwardExtent, int[] clearedSlots, (int, int)[] clearedRanges,
        bool[] writesGradientOnce, int rows, string summary)
    {
        (WritesGradientOnce, noneFresh, groupRows) = (writesGradientOnce, new bool[writesGradientOnce.Length], rows);
        (this.forward, this.backward, this.forwardExtent, this.backwardExtent) = (forward, backward, forwardExtent, backwardExtent);
        (ClearedSlots, ClearedRanges, Summary) = (clearedSlots, clearedRanges, summary);
    }

    /// <summary>Rows [rowStart, rowStart + rows) forward: the kept values (and those other runs read) stored.</summary>
    public void Forward(T[]?[] arrays, int[] offsets, int rowStart, int rows)
    {
        Check(arrays, offsets, forwardExtent, "forward", rowStart, rows);
        forward(arrays, offsets, noneFresh, rowStart, rows);
    }

    /// <summary>
    /// Rows [rowStart, rowStart + rows) backward, except broadcast sums over rows (<see cref="FusedInstruction{T}.SumsOverRows"/>).
    /// <paramref name="fresh"/> (null: none) marks the externals whose gradients nothing has written yet: where the kernel
    /// adds exactly one contribution per element (<see cref="WritesGradientOnce"/>) it writes 0 + c there, so the caller
    /// need not clear them.
    /// </summary>
    public void Backward(T[]?[] arrays, int[] offsets, bool[]? fresh, int rowStart, int rows)
    {
        Check(arrays, offsets, backwardExtent, "backward", rowStart, rows);
        backward(arrays, offsets, fresh ?? noneFresh, rowStart, rows);
    }

    /// <summary>Per external, whether the kernel adds exactly one contribution to each element of its gradient.</summary>
    public bool[] WritesGradientOnce { get; }

    private readonly bool[] noneFresh;
    private readonly int groupRows;   // the extents cover rows [0, groupRows)

    // The generated code does not check bounds; every stream it touches is checked here once per call.
    private void Check(T[]?[] arrays, int[] offsets, int[] extent, string pass, int rowStart, int rows)
    {
        if (rowStart < 0 || rows < 0 || rowStart + rows > groupRows)
            throw new ArgumentOutOfRangeException(nameof(rows), $"GroupKernel {pass}: rows [{rowStart}, {rowStart + rows}) of a group of {groupRows}.");
        for (int k = 0; k < extent.Length; k++)
        {
            if (extent[k] == 0 || (arrays[k] is null && k >= ExternalValues(0) && (k - ExternalValues(0)) % 2 == 1)) continue;
            if (arrays[k] is not { } a || offsets[k] < 0 || (long)offsets[k] + extent[k] > a.Length)
                throw new InvalidOperationException($"GroupKernel {pass}: stream {k} needs {extent[k]} values from offset {offsets[k]}, but its buffer holds {arrays[k]?.Length ?? 0}.");
        }
    }

    /// <summary>The kernel of <paramref name="group"/>, or null with the reason it runs instruction by instruction.</summary>
    public static GroupKernel<T>? TryBuild(FusedGroup<T> group, out string reason)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var builder = new Builder(group);
        reason = builder.Plan();
        if (reason.Length > 0) return null;
        var kernel = builder.Build();
        kernel.Summary += $", generated and compiled in {clock.Elapsed.TotalMilliseconds:0.0} ms";
        return kernel;
    }

    // Element i of an array, unchecked (Check above bounds every stream).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Load(T[] a, int i) => Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> LoadBroadcast(T[] a, int i) => Vector512.Create(Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(T[] a, int i, Vector512<T> v) => v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Sum(Vector512<T> a, Vector512<T> b) => a + b;

    /// <summary>Where a value's elements are: element (r, c) at <c>offsets[Stream] + Offset + r * RowStride + c</c> (a scalar: without c).</summary>
    private readonly record struct Place(int Stream, int Offset, int RowStride, bool Scalar = false)
    {
        public Place Shifted(int columns) => this with { Offset = Offset + columns };
    }

    private sealed class Builder(FusedGroup<T> group)
    {
        private static readonly int Lanes = Vector512<T>.Count;
        private static readonly MethodInfo LoadMethod = Method(nameof(Load)), BroadcastMethod = Method(nameof(LoadBroadcast));
        private static readonly MethodInfo StoreMethod = Method(nameof(Store)), SumMethod = Method(nameof(Sum));

        private static MethodInfo Method(string name) => typeof(GroupKernel<T>).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;

        private readonly FusedInstruction<T>[] program = group.Program;
        private readonly List<(int First, int Count)> runs = [];   // maximal consecutive elementwise instructions of one width
        private int[] runOfInstruction = [], runOfSlot = [];
        private bool[] stored = [], gradientInMemory = [], writtenOnce = [];

        /// <summary>The inner slots whose gradients the kernel adds to in memory, which must start at zero.</summary>
        public int[] ClearedSlots { get; private set; } = [];
        private Place?[] valuePlace = [];
        private int[] forwardExtent = [], backwardExtent = [];

        private int Slots => group.SlotOffsets.Length;

        private bool IsComputed(int instruction) => computed.Length > 0 && computed[program[instruction].Destination];

        private bool Kept(int slot) => group.SlotOffsets[slot] < group.SavedSize;

        private Place OwnPlace(int slot) => Kept(slot)
            ? new(GroupKernel<T>.Kept, group.SlotOffsets[slot], group.SlotCols[slot])
            : new(GroupKernel<T>.Scratch, group.SlotOffsets[slot] - group.SavedSize, group.SlotCols[slot]);

        private Place ValuePlace(int operand) => operand >= 0 ? valuePlace[operand]!.Value : new(ExternalValues(~operand), 0, group.ExternalCols[~operand]);

        private Place GradientPlace(int operand) => operand >= 0
            ? new(Gradients, group.SlotOffsets[operand], group.SlotCols[operand])
            : new(ExternalGradients(~operand), 0, group.ExternalCols[~operand]);

        private static IEnumerable<int> Operands(FusedInstruction<T> instruction) => instruction switch
        {
            ElementwiseInstruction<T> e => e.Kernel.Arity == 2 ? [e.A, e.B] : [e.A],
            NarrowInstruction<T> n => [n.Source],
            ExpandInstruction<T> x => [x.Source],
            _ => [],
        };

        /// <summary>
        /// An elementwise value read only through slices that tile it, each read once, is computed where its slices are
        /// read, from its operands' columns, and never stored (an LSTM's pre-activations P_t + W h + b); backward pushes
        /// each slice's gradient through it into its operands' columns there. Only when the value is alone in its run,
        /// not kept or returned, its derivative does not read it, and its operands have no other reader (so their
        /// gradients get the same single contribution, only at another point of the walk).
        /// </summary>
        private void PlanComputedSlices(int[] whole, List<(int Start, int Width)>[] ranges, int[] readers, int[] externalWhole, List<(int Start, int Width)>[] externalRanges)
        {
            computedFrom = new (ElementwiseInstruction<T>, int)?[Slots];
            foreach (var (first, count) in runs)
            {
                if (count != 1 || program[first] is not ElementwiseInstruction<T> e) continue;
                int s = e.Destination;
                if (Kept(s) || group.OutputIndexOfSlot[s] >= 0 || e.Kernel.BackwardReadsOutput || whole[s] != 0 || !writtenOnce[s]) continue;
                var slices = program.OfType<NarrowInstruction<T>>().Where(n => n.Source == s).ToArray();
                if (slices.Any(n => Kept(n.Destination) || group.OutputIndexOfSlot[n.Destination] >= 0 || whole[n.Destination] != 1 || ranges[n.Destination].Count > 0))
                    continue;
                int[] operands = [.. Operands(e)];
                bool alone(int o) => o >= 0 ? readers[o] == 1 && ranges[o].Count == 0 : externalWhole[~o] == 1 && externalRanges[~o].Count == 0;
                if (operands.Distinct().Count() != operands.Length || !operands.All(alone)) continue;
                foreach (var n in slices) computedFrom[n.Destination] = (e, n.Start);
                computed[s] = true;
                stored[s] = false;
            }
        }

        private (ElementwiseInstruction<T> Producer, int Start)?[] computedFrom = [];   // per slice slot: the value it is computed from, and where
        private bool[] computed = [];                                                   // per slot: computed where its slices are read

        /// <summary>Whether readers adding to all of a gradient (<paramref name="whole"/>) and slices of it give each element exactly one contribution.</summary>
        private static bool OnePerElement(int whole, List<(int Start, int Width)> slices, int cols)
        {
            if (whole > 0) return whole == 1 && slices.Count == 0;
            var sorted = slices.OrderBy(r => r.Start).ToList();
            return sorted.Count > 0 && sorted[0].Start == 0 && sorted[^1].Start + sorted[^1].Width == cols
                && sorted.Zip(sorted.Skip(1)).All(p => p.First.Start + p.First.Width == p.Second.Start);
        }

        /// <summary>Per external, whether the kernel adds exactly one contribution to each element of its gradient.</summary>
        public bool[] WritesGradientOnce { get; private set; } = [];

        /// <summary>Runs, places and what is stored; an empty string, or why the group cannot be generated.</summary>
        public string Plan()
        {
            if (!Vector512.IsHardwareAccelerated) return "no hardware 512-bit vectors here";
            // Under NativeAOT (or a file-based app's defaults) expression trees are interpreted, far slower than the interpreter here.
            if (!RuntimeFeature.IsDynamicCodeCompiled) return "code generated at run time is not compiled in this process";
            runOfInstruction = new int[program.Length];
            runOfSlot = Enumerable.Repeat(-1, Slots).ToArray();
            valuePlace = new Place?[Slots];
            for (int i = 0; i < program.Length; i++)
            {
                runOfInstruction[i] = -1;
                int d = program[i].Destination, width = group.SlotCols[d];
                if (width % Lanes != 0) return $"its rows of {width} values are not whole {Lanes}-lane vectors";
                switch (program[i])
                {
                    case ElementwiseInstruction<T> e:
                        if (e.Kernel.VectorForm is null) return $"{e.Name} has no vector form for {typeof(T).Name} here";
                        if (runs.Count > 0 && runs[^1].First + runs[^1].Count == i && group.SlotCols[program[i - 1].Destination] == width
                            && runs[^1].Count < MaxRunPrimitives)
                            runs[^1] = (runs[^1].First, runs[^1].Count + 1);
                        else runs.Add((i, 1));
                        runOfInstruction[i] = runOfSlot[d] = runs.Count - 1;
                        valuePlace[d] = OwnPlace(d);
                        break;
                    case NarrowInstruction<T> n:
                        valuePlace[d] = Kept(d) ? OwnPlace(d) : ValuePlace(n.Source).Shifted(n.Start);
                        break;
                    case ExpandInstruction<T> x:
                        if (x.Kind == Broadcast.Column) return "it broadcasts a column over rows";
                        if (x.Source >= 0) return "it broadcasts one of its own values";
                        valuePlace[d] = Kept(d) ? OwnPlace(d) : new(ExternalValues(~x.Source), 0, 0, x.Kind == Broadcast.Scalar);
                        break;
                    default:
                        return $"it has a {program[i].GetType().Name.Split('`')[0].Replace("Instruction", "").ToLowerInvariant()}";
                }
            }
            // A value another run or a slice reads, or that is kept, goes to memory; the rest of a run stays in registers.
            // Likewise a gradient: in memory when readers outside the run add to it (or outside the group: an output).
            stored = new bool[Slots];
            gradientInMemory = new bool[Slots];
            var whole = new int[Slots];                          // readers adding to every element of a slot's gradient in memory
            var ranges = new List<(int Start, int Width)>[Slots];  // slices adding to some of its columns
            for (int s = 0; s < Slots; s++)
            {
                bool output = group.OutputIndexOfSlot[s] >= 0;
                stored[s] = Kept(s) || output || runOfSlot[s] < 0;
                gradientInMemory[s] = output || runOfSlot[s] < 0;
                ranges[s] = [];
            }
            var readers = new int[Slots];                        // every operand occurrence, in the run or not
            var externalWhole = new int[group.Externals.Length];
            var externalRanges = group.Externals.Select(_ => new List<(int Start, int Width)>()).ToArray();
            for (int i = 0; i < program.Length; i++)
                foreach (int o in Operands(program[i]))
                {
                    if (o < 0)
                    {
                        // A broadcast's sum over rows adds many values into one: never written once.
                        if (program[i] is NarrowInstruction<T> slice) externalRanges[~o].Add((slice.Start, slice.Width));
                        else externalWhole[~o] += program[i] is ExpandInstruction<T> ? 2 : 1;
                        continue;
                    }
                    readers[o]++;
                    if (runOfInstruction[i] >= 0 && runOfInstruction[i] == runOfSlot[o]) continue;
                    stored[o] = gradientInMemory[o] = true;
                    if (program[i] is NarrowInstruction<T> n) ranges[o].Add((n.Start, n.Width));
                    else whole[o]++;
                }
            WritesGradientOnce = [.. Enumerable.Range(0, group.Externals.Length).Select(k =>
                group.ExternalCols[k] > 0 && OnePerElement(externalWhole[k], externalRanges[k], group.ExternalCols[k]))];
            // An inner gradient that gets exactly one contribution per element is written (0 + c, the interpreter's bits)
            // rather than added to a cleared buffer: an LSTM's pre-activations and their slices then need no clearing.
            writtenOnce = new bool[Slots];
            computed = new bool[Slots];
            for (int s = 0; s < Slots; s++)
                writtenOnce[s] = gradientInMemory[s] && group.OutputIndexOfSlot[s] < 0 && OnePerElement(whole[s], ranges[s], group.SlotCols[s]);
            ClearedSlots = [.. Enumerable.Range(0, Slots).Where(s => gradientInMemory[s] && group.OutputIndexOfSlot[s] < 0 && !writtenOnce[s])];
            PlanComputedSlices(whole, ranges, readers, externalWhole, externalRanges);
            // Only memory survives from forward to backward: what backward reads must be kept (the planner keeps it).
            foreach (var e in program.OfType<ElementwiseInstruction<T>>())
            {
                var reads = (e.Kernel.BackwardReadsOperands ? Operands(e) : []).Concat(e.Kernel.BackwardReadsOutput ? [e.Destination] : []);
                if (reads.Any(o => ValuePlace(o).Stream == GroupKernel<T>.Scratch)) return "its backward reads a value it does not keep";
            }
            return "";
        }

        public GroupKernel<T> Build()
        {
            int streams = ExternalGradients(group.Externals.Length - 1) + 1;
            forwardExtent = new int[streams];
            backwardExtent = new int[streams];
            var forward = Lambda(backwardPass: false, forwardExtent);
            var backward = Lambda(backwardPass: true, backwardExtent);
            var cleared = Ranges.Merged(ClearedSlots.Select(s => (group.SlotOffsets[s], group.SlotLengths[s])));
            var widths = runs.Select(r => $"{r.Count} at {group.SlotCols[program[r.First].Destination]}");
            return new GroupKernel<T>(forward, backward, forwardExtent, backwardExtent, ClearedSlots, cleared, WritesGradientOnce, group.Rows,
                $"generated kernel: per row, {runs.Count} loop{(runs.Count == 1 ? "" : "s")} of {Lanes}-lane vectors (primitives at width: {string.Join(", ", widths)})"
                + (computed.Any(c => c) ? $"; {string.Join(", ", Enumerable.Range(0, Slots).Where(s => computed[s]).Select(s => $"s{s}"))} computed where its slices are read, never stored" : "")
                + (Methods > 2 ? $", split into {Methods} methods to stay within the JIT's inlining budget" : ""));
        }

        // The parameters and per-stream locals of the lambda being built.
        private ParameterExpression[] arrays = [], offsets = [], fresh = [];
        private ParameterExpression row = null!, column = null!;
        private int[] extent = [];

        private Body Lambda(bool backwardPass, int[] extentOfPass)
        {
            extent = extentOfPass;
            int streams = extent.Length;
            arrays = [.. Enumerable.Range(0, streams).Select(k => Variable(typeof(T[]), $"a{k}"))];
            offsets = [.. Enumerable.Range(0, streams).Select(k => Variable(typeof(int), $"o{k}"))];
            fresh = [.. Enumerable.Range(0, group.Externals.Length).Select(k => Variable(typeof(bool), $"fresh{k}"))];
            row = Variable(typeof(int), "r");
            column = Variable(typeof(int), "c");
            var segments = backwardPass ? BackwardRow() : ForwardRow();
            // The JIT inlines a few hundred calls into one method and then stops: a long program becomes several methods,
            // each over all the rows (the values between them are in memory already, so the bits are the same).
            var parts = new List<List<Expression>>();
            int used = 0;
            foreach (var (code, calls) in segments)
            {
                if (parts.Count == 0 || used + calls > CallsPerMethod && parts[^1].Count > 0)
                {
                    parts.Add([]);
                    used = 0;
                }
                parts[^1].Add(code);
                used += calls;
            }
            var bodies = parts.Select(Compile).ToArray();
            Methods += bodies.Length;
            return bodies.Length == 1 ? bodies[0] : (a, o, f, start, rows) => { foreach (var body in bodies) body(a, o, f, start, rows); };
        }

        /// <summary>The methods compiled so far (forward and backward).</summary>
        public int Methods { get; private set; }

        // A run of more primitives is cut (the values crossing the cut go through memory) so that one run fits a method.
        private const int CallsPerMethod = 300, FormulaCalls = 6, MaxRunPrimitives = 24;

        private int calls;   // calls built so far, which the JIT inlines (a formula counts for the few it makes itself)

        private MethodCallExpression Inlined(MethodInfo method, int weight, params Expression[] arguments)
        {
            calls += weight;
            return Call(method, arguments);
        }

        private Body Compile(List<Expression> perRow)
        {
            var arraysParameter = Parameter(typeof(T[][]), "arrays");
            var offsetsParameter = Parameter(typeof(int[]), "offsets");
            var freshParameter = Parameter(typeof(bool[]), "fresh");
            var rowStart = Parameter(typeof(int), "rowStart");
            var rows = Parameter(typeof(int), "rows");
            var body = new List<Expression>();
            for (int k = 0; k < arrays.Length; k++)
            {
                body.Add(Assign(arrays[k], ArrayIndex(arraysParameter, Constant(k))));
                body.Add(Assign(offsets[k], ArrayIndex(offsetsParameter, Constant(k))));
            }
            for (int k = 0; k < fresh.Length; k++) body.Add(Assign(fresh[k], ArrayIndex(freshParameter, Constant(k))));
            var bases = rowBases.Select(b => (Expression)Assign(b.Value, Add(offsets[b.Key.Stream], Multiply(row, Constant(b.Key.RowStride)))));
            body.Add(For(row, rowStart, Add(rowStart, rows), 1, Block([.. bases, .. perRow])));
            return Lambda<Body>(Block([.. arrays, .. offsets, .. fresh, .. rowBases.Values, row, column], body), arraysParameter, offsetsParameter, freshParameter, rowStart, rows).Compile();
        }

        // One segment of a row's code and the calls in it.
        private (Expression Code, int Calls) Segment(Func<Expression> build)
        {
            int before = calls;
            var code = build();
            return (code, calls - before);
        }

        private List<(Expression Code, int Calls)> ForwardRow()
        {
            var code = new List<(Expression, int)>();
            for (int i = 0; i < program.Length; i++)
            {
                int run = runOfInstruction[i];
                if (run >= 0)
                {
                    if (runs[run].First == i && !IsComputed(i)) code.Add(Segment(() => ForwardRun(runs[run])));
                    continue;
                }
                // A slice or broadcast that backward reads (or the step returns) is copied out of its source once.
                int d = program[i].Destination;
                if (Kept(d) || group.OutputIndexOfSlot[d] >= 0)
                {
                    var from = program[i] switch
                    {
                        NarrowInstruction<T> n => ValuePlace(n.Source).Shifted(n.Start),
                        ExpandInstruction<T> x => new Place(ExternalValues(~x.Source), 0, 0, x.Kind == Broadcast.Scalar),
                        _ => throw new InvalidOperationException(),
                    };
                    code.Add(Segment(() => Columns(group.SlotCols[d], () => StoreAt(OwnPlace(d), LoadFrom(from)))));
                }
            }
            return code;
        }

        private BlockExpression ForwardRun((int First, int Count) run) => Columns(group.SlotCols[program[run.First].Destination], primitives: run.Count, body: () =>
        {
            var registers = new Dictionary<int, ParameterExpression>();
            var code = new List<Expression>();
            for (int i = run.First; i < run.First + run.Count; i++)
            {
                var e = (ElementwiseInstruction<T>)program[i];
                Expression Operand(int o) => o >= 0 && registers.TryGetValue(o, out var v) ? v
                    : o >= 0 && computedFrom[o] is var (producer, start) ? Inlined(producer.Kernel.VectorForm!.Forward, FormulaCalls,
                        LoadFrom(ValuePlace(producer.A).Shifted(start)),
                        producer.Kernel.Arity == 2 ? LoadFrom(ValuePlace(producer.B).Shifted(start)) : Default(typeof(Vector512<T>)),
                        Constant(producer.P), Constant(producer.Q))
                    : LoadFrom(ValuePlace(o));
                var y = Variable(typeof(Vector512<T>), $"s{e.Destination}");
                registers[e.Destination] = y;
                var b = e.Kernel.Arity == 2 ? Operand(e.B) : Default(typeof(Vector512<T>));
                code.Add(Assign(y, Inlined(e.Kernel.VectorForm!.Forward, FormulaCalls, Operand(e.A), b, Constant(e.P), Constant(e.Q))));
                if (stored[e.Destination]) code.Add(StoreAt(OwnPlace(e.Destination), y));
            }
            return Block(registers.Values, code);
        });

        private List<(Expression Code, int Calls)> BackwardRow()
        {
            var code = new List<(Expression, int)>();
            for (int i = program.Length - 1; i >= 0; i--)
            {
                int run = runOfInstruction[i];
                if (run >= 0)
                {
                    if (runs[run].First + runs[run].Count - 1 == i && !IsComputed(i)) code.Add(Segment(() => BackwardRun(runs[run])));
                    continue;
                }
                // A slice adds its gradient into its source's columns; a broadcast's sum over rows runs after the kernel.
                if (program[i] is NarrowInstruction<T> n && computedFrom[n.Destination] is null)
                {
                    var into = GradientPlace(n.Source).Shifted(n.Start);
                    code.Add(Segment(() => IfHasGradient(n.Source, Columns(n.Width, () => AddTo(n.Source, into, LoadFrom(GradientPlace(n.Destination)))))));
                }
            }
            return code;
        }

        private BlockExpression BackwardRun((int First, int Count) run) => Columns(group.SlotCols[program[run.First].Destination], primitives: run.Count, body: () =>
        {
            var gradients = new Dictionary<int, ParameterExpression>();
            var code = new List<Expression>();
            for (int i = run.First; i < run.First + run.Count; i++)
            {
                // Readers outside the run (and outside the group) have added theirs to memory already: start from it.
                int d = program[i].Destination;
                var g = Variable(typeof(Vector512<T>), $"g{d}");
                gradients[d] = g;
                code.Add(Assign(g, gradientInMemory[d] ? LoadFrom(GradientPlace(d)) : Default(typeof(Vector512<T>))));
            }
            for (int i = run.First + run.Count - 1; i >= run.First; i--)
            {
                var e = (ElementwiseInstruction<T>)program[i];
                var form = e.Kernel.VectorForm!;
                bool binary = e.Kernel.Arity == 2;
                Expression Value(int o, bool read) => read ? LoadFrom(ValuePlace(o)) : Default(typeof(Vector512<T>));
                var (a, b) = (Value(e.A, e.Kernel.BackwardReadsOperands), binary ? Value(e.B, e.Kernel.BackwardReadsOperands) : Default(typeof(Vector512<T>)));
                var y = Value(e.Destination, e.Kernel.BackwardReadsOutput);
                var args = new[] { gradients[e.Destination], a, b, y, Constant(e.P), Constant(e.Q) };
                // Toward a, then toward b, as the interpreter's kernel adds them.
                code.Add(Accumulate(e.A, Inlined(form.ChainA, FormulaCalls, args), gradients));
                if (binary) code.Add(Accumulate(e.B, Inlined(form.ChainB!, FormulaCalls, args), gradients));
            }
            return Block(gradients.Values, code);
        });

        private Expression Accumulate(int operand, Expression chain, Dictionary<int, ParameterExpression> gradients)
        {
            if (operand >= 0 && gradients.TryGetValue(operand, out var g)) return Assign(g, Inlined(SumMethod, 1, g, chain));
            if (operand >= 0 && computedFrom[operand] is var (producer, start)) return ThroughProducer(producer, start, chain);
            return IfHasGradient(operand, AddTo(operand, GradientPlace(operand), chain));
        }

        // The slice's only contribution (0 + c), its place in the producer's gradient (0 + that), then the producer's chain
        // rules into its operands' columns: the additions the interpreter makes, in its order for every element.
        private BlockExpression ThroughProducer(ElementwiseInstruction<T> producer, int start, Expression chain)
        {
            var zero = Default(typeof(Vector512<T>));
            var g = Variable(typeof(Vector512<T>), $"g{producer.Destination}");
            bool binary = producer.Kernel.Arity == 2, reads = producer.Kernel.BackwardReadsOperands;
            Expression a = reads ? LoadFrom(ValuePlace(producer.A).Shifted(start)) : zero;
            Expression b = binary && reads ? LoadFrom(ValuePlace(producer.B).Shifted(start)) : zero;
            var args = new Expression[] { g, a, b, zero, Constant(producer.P), Constant(producer.Q) };
            var code = new List<Expression> { Assign(g, Inlined(SumMethod, 1, zero, Inlined(SumMethod, 1, zero, chain))) };
            code.Add(IfHasGradient(producer.A, AddTo(producer.A, GradientPlace(producer.A).Shifted(start), Inlined(producer.Kernel.VectorForm!.ChainA, FormulaCalls, args))));
            if (binary)
                code.Add(IfHasGradient(producer.B, AddTo(producer.B, GradientPlace(producer.B).Shifted(start), Inlined(producer.Kernel.VectorForm!.ChainB!, FormulaCalls, args))));
            return Block([g], code);
        }

        // gradient += contribution in memory; the only contribution to a cleared gradient is added to a zero register instead.
        private MethodCallExpression AddTo(int operand, Place place, Expression contribution)
        {
            var zero = Default(typeof(Vector512<T>));
            if (operand >= 0) return StoreAt(place, Inlined(SumMethod, 1, writtenOnce[operand] ? zero : LoadFrom(place), contribution));
            // An external's gradient that nothing has written yet this step (the caller says so per call) is written too.
            var start = WritesGradientOnce[~operand] ? Condition(fresh[~operand], zero, LoadFrom(place)) : (Expression)LoadFrom(place);
            return StoreAt(place, Inlined(SumMethod, 1, start, contribution));
        }

        // An external may carry no gradient (its stream is null): then nothing is added to it.
        private Expression IfHasGradient(int operand, Expression code) =>
            operand >= 0 ? code : IfThen(NotEqual(arrays[ExternalGradients(~operand)], Constant(null, typeof(T[]))), code);

        // In an unrolled loop the column is a constant, folded into the place's offset.
        // Element (r, c) of a place: the row's start in its stream, computed once per row (RowBase), plus a constant.
        private BinaryExpression Index(Place p) => p.Scalar ? Add(RowBase(p), Constant(p.Offset))
            : unrolledColumn is int c ? Add(RowBase(p), Constant(p.Offset + c))
            : Add(Add(RowBase(p), Constant(p.Offset)), column);

        private readonly Dictionary<(int Stream, int RowStride), ParameterExpression> rowBases = [];

        private ParameterExpression RowBase(Place p)
        {
            if (!rowBases.TryGetValue((p.Stream, p.RowStride), out var b)) rowBases[(p.Stream, p.RowStride)] = b = Variable(typeof(int), $"row{p.Stream}x{p.RowStride}");
            return b;
        }

        private MethodCallExpression LoadFrom(Place p)
        {
            Touch(p);
            return Inlined(p.Scalar ? BroadcastMethod : LoadMethod, 1, arrays[p.Stream], Index(p));
        }

        private MethodCallExpression StoreAt(Place p, Expression value)
        {
            Touch(p);
            return Inlined(StoreMethod, 1, arrays[p.Stream], Index(p), value);
        }

        // The width a place's accesses can reach is checked per call; record the farthest over all rows of the group.
        private int width;

        private void Touch(Place p)
        {
            long end = p.Offset + (long)(group.Rows - 1) * p.RowStride + (p.Scalar ? 1 : width);
            extent[p.Stream] = (int)Math.Max(extent[p.Stream], end);
        }

        /// <summary>The body once per vector of a row's <paramref name="cols"/> columns (the column variable steps by the lane count).</summary>
        /// <remarks>
        /// A short loop is unrolled (its column offsets constants, no loop branches): at W3 a row of a gate is two
        /// vectors.
        /// </remarks>
        private BlockExpression Columns(int cols, Func<Expression> body, int primitives = 1)
        {
            width = cols;
            int vectors = cols / Lanes;
            if (vectors > 1 && vectors <= UnrolledVectors && vectors * primitives <= UnrolledPrimitives)
            {
                // Unrolled only while the copies' calls stay within the inlining budget of one method.
                int before = calls;
                unrolledColumn = 0;
                var copies = new List<Expression> { body() };
                int each = calls - before;
                if (vectors * each <= UnrolledCalls)
                {
                    for (int v = 1; v < vectors; v++)
                    {
                        unrolledColumn = v * Lanes;
                        copies.Add(body());
                    }
                    unrolledColumn = null;
                    return Block(copies);
                }
                calls = before;
                unrolledColumn = null;
            }
            return For(column, Constant(0), Constant(cols), Lanes, body());
        }

        // The JIT inlines a few hundred calls into one method and then stops (each load, store and formula is one), so
        // unrolling stays small: at most 8 vectors and 32 primitive bodies per loop.
        private const int UnrolledVectors = 8, UnrolledPrimitives = 32, UnrolledCalls = 150;
        private int? unrolledColumn;

        private static BlockExpression For(ParameterExpression variable, Expression from, Expression to, int step, Expression body)
        {
            var done = Label("done");
            return Block(
                Assign(variable, from),
                Loop(IfThenElse(LessThan(variable, to), Block(body, AddAssign(variable, Constant(step))), Break(done)), done));
        }
    }
}
