using System.Numerics;
using System.Text;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// A maximal group of elementwise and last-axis slicing work of a traced graph, run as one program over one arena
/// and recorded as ONE tape entry (plus one small entry per value the rest of the graph reads). Its backward runs the
/// same instructions in reverse, each through its primitive's own derivative; its forward-mode and differentiable
/// backward rules replay the member primitives themselves.
/// </summary>
internal sealed class FusedGroup<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public required int Id { get; init; }
    public required int[] Members { get; init; }                 // node indices, in execution order
    public required Source[] Externals { get; init; }            // what the group reads from outside
    public required FusedInstruction<T>[] Program { get; init; }
    public required int[] SlotOffsets { get; init; }
    public required int[] SlotLengths { get; init; }
    public required Dictionary<int, int> SlotOfMember { get; init; }
    public required int[] OutputMembers { get; init; }           // members read outside the group
    public required int ArenaSize { get; init; }

    /// <summary>
    /// The arena's first values, which a whole sequence keeps for every step: the slots backward reads
    /// (<see cref="FusedInstruction{T}.ReadInBackward"/>) and those read outside the group. The rest is scratch.
    /// </summary>
    public required int SavedSize { get; init; }

    /// <summary>Per external, whether backward reads its value.</summary>
    public required bool[] ExternalReadInBackward { get; init; }

    /// <summary>The row count every value of the group shares (its size over its last axis).</summary>
    public required int Rows { get; init; }

    /// <summary>Per external, its values per row; 0 for a broadcast source (a bias row, a scalar), which every window of rows reads whole.</summary>
    public required int[] ExternalCols { get; init; }

    /// <summary>Per slot, its values per row.</summary>
    public int[] SlotCols => slotCols ??= [.. SlotLengths.Select(length => length / Rows)];
    private int[]? slotCols;

    /// <summary>For each slot, the index in <see cref="OutputMembers"/> of the member it holds, or -1.</summary>
    public int[] OutputIndexOfSlot => outputIndexOfSlot ??= Enumerable.Range(0, SlotOffsets.Length)
        .Select(s => Array.FindIndex(OutputMembers, m => SlotOfMember[m] == s)).ToArray();
    private int[]? outputIndexOfSlot;

    /// <summary>The slots whose gradients only the group's own instructions add to (nothing outside the group reads their values).</summary>
    public int[] InnerSlots => innerSlots ??= [.. Enumerable.Range(0, SlotOffsets.Length).Where(s => OutputIndexOfSlot[s] < 0)];
    private int[]? innerSlots;

    /// <summary>The inner slots' places in the arena merged into contiguous ranges (a whole group's gradients cleared in a few calls, not one per slot).</summary>
    public (int Offset, int Length)[] InnerRanges => innerRanges ??= Ranges.Merged(InnerSlots.Select(s => (SlotOffsets[s], SlotLengths[s])));
    private (int, int)[]? innerRanges;

    /// <summary>The group's generated kernel (<see cref="GroupKernel{T}"/>), built on first use (here, or waiting for a build already under way); null when it runs instruction by instruction, for <see cref="KernelReason"/>.</summary>
    public GroupKernel<T>? Kernel
    {
        get
        {
            if (Volatile.Read(ref kernelReason) is null)
                lock (kernelGate)
                    if (kernelReason is null)
                    {
                        kernel = GroupKernel<T>.TryBuild(this, out var reason);
                        Volatile.Write(ref kernelReason, reason);   // after the kernel: a reader that sees the reason sees the kernel
                    }
            return kernel;
        }
    }
    private GroupKernel<T>? kernel;
    private string? kernelReason;
    private readonly Lock kernelGate = new();
    private int generating;   // 1 once a background build has been queued

    /// <summary>
    /// The kernel if it is ready; otherwise null, and its generation starts (once) on a thread-pool thread, so that a
    /// whole-sequence pass goes on instruction by instruction (the same bits) instead of waiting, and the passes after
    /// it is ready use it: what a tiered JIT does with a method. Synchronous (<see cref="Kernel"/>) unless
    /// <see cref="GroupKernel{T}.GenerateInBackground"/>.
    /// </summary>
    /// <remarks>
    /// Measured on the Zen 3 machine (2026-12-07): generating a cell's kernels took 15-50 ms of a new cell's first
    /// iteration in a warm process (JANET's 68-80 ms in all), against the issue's 50 ms per cell and shape.
    /// </remarks>
    public GroupKernel<T>? KernelIfReady
    {
        get
        {
            if (Volatile.Read(ref kernelReason) is not null) return kernel;
            if (!GroupKernel<T>.GenerateInBackground) return Kernel;
            if (Interlocked.Exchange(ref generating, 1) == 0) GroupKernel<T>.StartInBackground(GenerateNow);
            return null;
        }
    }

    // The background build: a failure leaves the group instruction by instruction, with the reason ExplainCompiledStep shows.
    private void GenerateNow()
    {
        try
        {
            _ = Kernel;
        }
        catch (Exception e)
        {
            lock (kernelGate)
                if (kernelReason is null) Volatile.Write(ref kernelReason, $"generating its kernel failed ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>Why the group has no generated kernel (empty when it has one).</summary>
    public string KernelReason => Kernel is null ? kernelReason! : "";

    /// <summary>The instructions whose backward sums over rows (<see cref="FusedInstruction{T}.SumsOverRows"/>), in reverse program order.</summary>
    public FusedInstruction<T>[] RowSums => rowSums ??= [.. Program.Where(i => i.SumsOverRows).Reverse()];
    private FusedInstruction<T>[]? rowSums;

    public FusedGroupRule<T> Rule => rule ??= new FusedGroupRule<T>(this);
    private FusedGroupRule<T>? rule;

    /// <summary>Runs the group on the externals' current values; sets the values of its output members.</summary>
    public void Run(TracedGraph<T> graph, TensorBase?[] values, in ValueTable table)
    {
        var externals = new TensorBase[Externals.Length];
        for (int k = 0; k < externals.Length; k++) externals[k] = table[Externals[k]];
        var y = Tensor<T>.Uninitialized([ArenaSize]);
        var frame = new GroupFrame<T>(y.Data, default, externals, this);
        foreach (var instruction in Program) instruction.Forward(frame);
        var outputs = new Tensor<T>[OutputMembers.Length];
        for (int k = 0; k < outputs.Length; k++)
        {
            int member = OutputMembers[k], slot = SlotOfMember[member];
            var output = Tensor<T>.Uninitialized(graph.Nodes[member].Dims);
            frame.Slot(slot).CopyTo(output.Data);
            values[member] = outputs[k] = output;
        }
        Tape.Record(Rule, y, null, aux: externals, extra: outputs);
        if (y.IsLeaf)
        {
            // Nothing needs a gradient: the arena is dead already.
            BufferPool<T>.Return(y.Data);
            return;
        }
        for (int k = 0; k < outputs.Length; k++) Tape.Record(FusedOutputRule<T>.Instance, outputs[k], y, aux: this, i0: SlotOffsets[SlotOfMember[OutputMembers[k]]]);
    }

    /// <summary>The member primitives run again, one by one on real tensors (recorded when gradients are enabled): the group as the interpreted path would have run it.</summary>
    internal Dictionary<int, Tensor<T>> Replay(TracedGraph<T> graph, TensorBase[] externals)
    {
        var byMember = new Dictionary<int, Tensor<T>>();
        var extIndex = new Dictionary<Source, int>();
        for (int k = 0; k < Externals.Length; k++) extIndex[Externals[k]] = k;
        foreach (int m in Members)
        {
            var e = graph.Nodes[m].Bind(s => s.Kind == SourceKind.Node && byMember.TryGetValue(s.Index, out var t) ? t : externals[extIndex[s]]);
            byMember[m] = (Tensor<T>)((IReplayableRule)e.Rule).Replay(e);
        }
        return byMember;
    }

    internal TapeEntry Bound(TracedGraph<T> graph, int member, Dictionary<int, Tensor<T>> byMember, TensorBase[] externals)
    {
        var extIndex = new Dictionary<Source, int>();
        for (int k = 0; k < Externals.Length; k++) extIndex[Externals[k]] = k;
        var e = graph.Nodes[member].Bind(s => s.Kind == SourceKind.Node && byMember.TryGetValue(s.Index, out var t) ? t : externals[extIndex[s]]);
        e.Output = byMember[member];
        return e;
    }

    public TracedGraph<T>? Graph { get; set; }

    public string Describe(Func<Source, string> name)
    {
        string Operand(int o) => o >= 0 ? $"s{o}" : name(Externals[~o]);
        var text = new StringBuilder();
        text.AppendLine($"fused group {Id}: {Members.Length} primitives ({string.Join(", ", Members.Select(m => $"%{m}"))}) in one kernel, arena {ArenaSize} values ({SavedSize} kept for backward), reads {string.Join(", ", Externals.Select(name))}, gives {string.Join(", ", OutputMembers.Select(m => $"%{m}"))}");
        foreach (var i in Program) text.AppendLine("    " + i.Describe(Operand));
        text.AppendLine(Kernel is { } k ? $"    in a whole sequence: {k.Summary}" : $"    in a whole sequence: instruction by instruction ({KernelReason})");
        return text.ToString().TrimEnd();
    }
}

/// <summary>The tape entry of one run of a fused group: its output is the arena, its inputs the group's externals.</summary>
internal sealed class FusedGroupRule<T>(FusedGroup<T> group) : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => $"Fused{group.Id}";

    // The program in reverse, each instruction through its primitive's declared derivative.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var frame = new GroupFrame<T>(y.Data, y.GradData, (TensorBase[])e.Aux!, group);
        var outputs = (Tensor<T>[])e.Extra!;
        for (int i = group.Program.Length - 1; i >= 0; i--)
        {
            // A retained gradient is the total one: the readers inside the group have all added theirs by now.
            int k = group.OutputIndexOfSlot[group.Program[i].Destination];
            if (k >= 0 && outputs[k].RetainsGradient) outputs[k].Grad = new Tensor<T>((int[])outputs[k].Dims.Clone(), frame.Grad(group.Program[i].Destination).ToArray());
            group.Program[i].Backward(frame);
        }
    }

    // Forward mode; the arena's tangent carries the outputs' tangents at their slots. Unrecorded (Autograd.Jvp and the
    // HVP push tangents under NoGrad) it is one pass over the program, each instruction through its primitive's declared
    // derivative; recorded (a tangent that must itself be differentiable), the members' own JVP rules over a replay.
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents)
    {
        if (Autograd.IsGradEnabled) return ReplayedJvp(e, tangents);
        var externals = (TensorBase[])e.Aux!;
        var externalTangents = new Tensor<T>?[externals.Length];
        bool any = false;
        for (int k = 0; k < externals.Length; k++) any |= (externalTangents[k] = tangents.Of<T>(externals[k])) is not null;
        if (!any) return null;
        var arena = Tensor.Zeros<T>(group.ArenaSize);
        var values = new GroupFrame<T>(y.Data, default, externals, group);
        var frame = new TangentFrame<T>(arena.Data, new bool[group.SlotOffsets.Length], externalTangents, group);
        foreach (var instruction in group.Program) instruction.Tangent(values, frame);
        return arena;
    }

    private Tensor<T> ReplayedJvp(in TapeEntry e, Tangents tangents)
    {
        var graph = group.Graph!;
        var externals = (TensorBase[])e.Aux!;
        var byMember = group.Replay(graph, externals);
        foreach (int m in group.Members)
        {
            var entry = group.Bound(graph, m, byMember, externals);
            if (!tangents.AnyInput(entry)) continue;
            var t = entry.Rule.Jvp(entry, tangents);
            if (t is not null) tangents.Set(entry.Output, t, entry.Rule.Name);
        }
        var pieces = new List<Tensor<T>>();
        var outputs = new HashSet<int>(group.OutputMembers);
        var bySlot = group.SlotOfMember.Where(p => outputs.Contains(p.Key)).ToDictionary(p => p.Value, p => p.Key);
        foreach (int s in Enumerable.Range(0, group.SlotOffsets.Length).OrderBy(s => group.SlotOffsets[s]))
        {
            var t = bySlot.TryGetValue(s, out int m) ? tangents.Of<T>(byMember[m]) : null;
            pieces.Add(t is null ? Tensor.Zeros<T>(group.SlotLengths[s]) : t.Reshape(-1));
        }
        return Tensor.Concat(0, [.. pieces]);
    }

    // Reverse mode as recorded operations: the members' own VJP rules over a replay, in reverse.
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var graph = group.Graph!;
        var externals = (TensorBase[])e.Aux!;
        var byMember = group.Replay(graph, externals);
        foreach (var t in byMember.Values) if (t.IsLeaf) t.RequiresGrad = true;
        var local = new Cotangents();
        foreach (int m in group.OutputMembers)
        {
            int slot = group.SlotOfMember[m];
            local.Add(Name, byMember[m], dy.Narrow(0, group.SlotOffsets[slot], group.SlotLengths[slot]).Reshape([.. graph.Nodes[m].Dims]));
        }
        for (int i = group.Members.Length - 1; i >= 0; i--)
        {
            var entry = group.Bound(graph, group.Members[i], byMember, externals);
            if (local.Of(entry.Output) is not TensorBase g) continue;
            entry.Rule.Vjp(entry, g, local);
        }
        foreach (var x in externals.Distinct(ReferenceEqualityComparer.Instance).Cast<TensorBase>())
            if (local.Of(x) is Tensor<T> g) sink.Add(Name, (Tensor<T>)x, g);
    }
}

/// <summary>One value of a fused group that the rest of the graph reads: a copy of its arena slot (I0 = the slot's offset).</summary>
internal sealed class FusedOutputRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly FusedOutputRule<T> Instance = new();
    public override string Name => "FusedOutput";

    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var slot = e.InA<T>().GradBuffer().Slice(e.I0, dy.Length);
        TP.Add(slot, dy, slot);
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents) =>
        tangents.Of<T>(e.A)?.Narrow(0, e.I0, y.Size).Reshape([.. y.Dims]);

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var arena = e.InA<T>();
        int after = arena.Size - e.I0 - y.Size;
        var pieces = new List<Tensor<T>>();
        if (e.I0 > 0) pieces.Add(Tensor.Zeros<T>(e.I0));
        pieces.Add(dy.Reshape(-1));
        if (after > 0) pieces.Add(Tensor.Zeros<T>(after));
        sink.Add(Name, arena, pieces.Count == 1 ? pieces[0] : Tensor.Concat(0, [.. pieces]));
    }
}
