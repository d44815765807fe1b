using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// Splits a traced graph into fused groups and replayed primitives. A node is fusable when it is elementwise (its rule
/// declares an <see cref="IElementwiseKernel{T}"/>) with operands of its own shape or broadcast as a row, a column or a
/// scalar, or a Narrow/Concat on the last axis. Levels keep the groups acyclic: a fusable node sits at the level of its
/// fusable producers of the same row count and one above any other producer, a replayed node at the level of its
/// producers; all fusable nodes of one (level, rows) form ONE group, which runs before the replayed nodes of its level.
/// (A replayed node of level k reads only levels &lt;= k, and every fusable reader of it is at level k + 1 or more.)
/// </summary>
internal static class FusionPlanner
{
    public static CompiledProgram<T> Plan<T>(TracedGraph<T> graph, bool observe) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = graph.Nodes.Length;
        var rows = new int[n];
        var fusable = new bool[n];
        var level = new int[n];
        for (int i = 0; i < n; i++)
        {
            fusable[i] = IsFusable(graph, graph.Nodes[i], out rows[i]);
            foreach (var s in graph.Nodes[i].Inputs)
            {
                if (s.Kind != SourceKind.Node) continue;
                int j = s.Index;
                bool sameGroup = fusable[i] && fusable[j] && rows[i] == rows[j];
                level[i] = Math.Max(level[i], fusable[i] && !sameGroup ? level[j] + 1 : level[j]);
            }
        }
        SinkIntoReaders(graph, fusable, rows, level);
        var readOutside = ReadersOutside(graph, fusable, rows, level, observe);
        var stages = new List<object>();
        int groupId = 0;
        for (int L = 0, maxLevel = n == 0 ? -1 : level.Max(); L <= maxLevel; L++)
        {
            foreach (var key in Enumerable.Range(0, n).Where(i => fusable[i] && level[i] == L).GroupBy(i => rows[i]))
            {
                var group = BuildGroup(graph, groupId++, [.. key], readOutside);
                group.Graph = graph;
                stages.Add(group);
            }
            for (int i = 0; i < n; i++)
                if (!fusable[i] && level[i] == L) stages.Add(i);
        }
        return new CompiledProgram<T>(graph, [.. stages], observe);
    }

    /// <summary>
    /// As late as possible: a fusable node read only by fusable nodes of its row count moves up to the lowest level of
    /// its readers (a GRU's slices of the projected input join the group after the recurrent product instead of
    /// forming a group of their own). Its inputs sit at lower levels or move with it, so the order stays valid.
    /// </summary>
    private static void SinkIntoReaders<T>(TracedGraph<T> graph, bool[] fusable, int[] rows, int[] level) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = graph.Nodes.Length;
        var readers = new List<int>[n];
        for (int i = 0; i < n; i++) readers[i] = [];
        for (int i = 0; i < n; i++)
            foreach (var s in graph.Nodes[i].Inputs)
                if (s.Kind == SourceKind.Node) readers[s.Index].Add(i);
        var isOutput = new bool[n];
        foreach (var s in graph.Outputs) if (s.Kind == SourceKind.Node) isOutput[s.Index] = true;
        for (int i = n - 1; i >= 0; i--)
            if (fusable[i] && !isOutput[i] && readers[i].Count > 0 && readers[i].All(r => fusable[r] && rows[r] == rows[i]))
                level[i] = readers[i].Min(r => level[r]);
    }

    /// <summary>Per node, whether anything outside its own group reads it (a replayed node, another group, an output, an observed gate).</summary>
    private static bool[] ReadersOutside<T>(TracedGraph<T> graph, bool[] fusable, int[] rows, int[] level, bool observe) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outside = new bool[graph.Nodes.Length];
        for (int i = 0; i < graph.Nodes.Length; i++)
            foreach (var s in graph.Nodes[i].Inputs)
                if (s.Kind == SourceKind.Node && !(fusable[i] && fusable[s.Index] && rows[i] == rows[s.Index] && level[i] == level[s.Index]))
                    outside[s.Index] = true;
        foreach (var s in graph.Outputs) if (s.Kind == SourceKind.Node) outside[s.Index] = true;
        if (observe) foreach (var o in graph.Observations) if (o.Source.Kind == SourceKind.Node) outside[o.Source.Index] = true;
        return outside;
    }

    private static bool IsFusable<T>(TracedGraph<T> graph, TraceNode node, out int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dims = node.Dims;
        rows = 0;
        if (dims.Length == 0 || ShapeMath.Size(dims) == 0) return false;
        rows = ShapeMath.Size(dims) / dims[^1];
        var e = node.Entry;
        switch (e.Rule)
        {
            case IElementwiseKernel<T> kernel:
                for (int k = 0; k < kernel.Arity; k++)
                    if (!Classify(graph.DimsOf(node.Slots[k]), dims, out _)) return false;
                return true;
            case NarrowRule<T>:
                return e.I0 == dims.Length - 1 && e.A!.Rank == dims.Length;
            case ConcatRule<T>:
                return e.I0 == dims.Length - 1 && ((TensorBase[])e.Aux!)[0].Rank == dims.Length;
            default:
                return false;
        }
    }

    /// <summary>How an operand of shape <paramref name="operand"/> reaches an output of shape <paramref name="output"/>: in place (null) or broadcast.</summary>
    private static bool Classify(int[] operand, int[] output, out Broadcast? kind)
    {
        int size = ShapeMath.Size(operand), outSize = ShapeMath.Size(output), cols = output[^1];
        int last = operand.Length == 0 ? 1 : operand[^1];
        kind = null;
        if (size == outSize && last == cols) return true;
        kind = size == 1 ? Broadcast.Scalar : size == cols && last == cols ? Broadcast.Row : last == 1 && size == outSize / cols ? Broadcast.Column : null;
        return kind is not null;
    }

    private static FusedGroup<T> BuildGroup<T>(TracedGraph<T> graph, int id, int[] members, bool[] readOutside) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var slotOf = new Dictionary<int, int>();
        var lengths = new List<int>();
        var externals = new List<Source>();
        var expansions = new Dictionary<(int, Broadcast), int>();
        var program = new List<FusedInstruction<T>>();
        var readWhole = new HashSet<int>();   // externals read only as a broadcast row or scalar
        int groupRows = ShapeMath.Size(graph.Nodes[members[0]].Dims) / graph.Nodes[members[0]].Dims[^1];
        int NewSlot(int length) { lengths.Add(length); return lengths.Count - 1; }
        int Operand(Source s)
        {
            if (s.Kind == SourceKind.Node && slotOf.TryGetValue(s.Index, out int slot)) return slot;
            int k = externals.IndexOf(s);
            if (k < 0) { externals.Add(s); k = externals.Count - 1; }
            return ~k;
        }
        int Broadcasted(Source s, int[] dims)
        {
            int operand = Operand(s);
            Classify(graph.DimsOf(s), dims, out var kind);
            if (kind is not Broadcast b) return operand;
            if (expansions.TryGetValue((operand, b), out int made)) return made;
            if (b != Broadcast.Column && operand < 0) readWhole.Add(~operand);
            int slot = NewSlot(ShapeMath.Size(dims));
            program.Add(new ExpandInstruction<T>(operand, b, dims[^1]) { Destination = slot });
            return expansions[(operand, b)] = slot;
        }
        foreach (int m in members)
        {
            var node = graph.Nodes[m];
            var (e, dims) = (node.Entry, node.Dims);
            FusedInstruction<T> instruction;
            switch (e.Rule)
            {
                case IElementwiseKernel<T> kernel:
                    int a = Broadcasted(node.Slots[0], dims), b = kernel.Arity == 2 ? Broadcasted(node.Slots[1], dims) : 0;
                    instruction = new ElementwiseInstruction<T>(kernel, e.Rule.Name, a, b, e.D0, e.D1) { Destination = NewSlot(ShapeMath.Size(dims)) };
                    break;
                case NarrowRule<T>:
                    instruction = new NarrowInstruction<T>(Operand(node.Slots[0]), e.A!.Dims[^1], e.I1, dims[^1]) { Destination = NewSlot(ShapeMath.Size(dims)) };
                    break;
                default:
                    var parts = node.Slots.Skip(3).ToArray();
                    instruction = new ConcatInstruction<T>([.. parts.Select(Operand)], [.. parts.Select(p => graph.DimsOf(p)[^1])]) { Destination = NewSlot(ShapeMath.Size(dims)) };
                    break;
            }
            program.Add(instruction);
            slotOf[m] = instruction.Destination;
        }
        // The values backward reads, and those read outside the group, come first in the arena: a whole sequence keeps
        // that part of every step and runs the rest in scratch memory.
        var outputs = members.Where(m => readOutside[m]).ToArray();
        var kept = new bool[lengths.Count];
        var externalRead = new bool[externals.Count];
        foreach (int m in outputs) kept[slotOf[m]] = true;
        foreach (var instruction in program)
            foreach (int operand in instruction.ReadInBackward)
                if (operand >= 0) kept[operand] = true;
                else externalRead[~operand] = true;
        var offsets = new int[lengths.Count];
        int savedSize = 0, next = 0;
        foreach (bool pass in new[] { true, false })
        {
            for (int s = 0; s < offsets.Length; s++)
                if (kept[s] == pass) (offsets[s], next) = (next, next + lengths[s]);
            if (pass) savedSize = next;
        }
        // A broadcast source is read whole by every window of rows; any other external has the group's rows (with one
        // row, where a row source could also be read in place, whole and window are the same).
        int[] externalCols = [.. externals.Select((s, k) => groupRows > 1 && readWhole.Contains(k) ? 0 : ShapeMath.Size(graph.DimsOf(s)) / groupRows)];
        return new FusedGroup<T>
        {
            Id = id,
            Rows = groupRows,
            ExternalCols = externalCols,
            Members = members,
            Externals = [.. externals],
            Program = [.. program],
            SlotOffsets = offsets,
            SlotLengths = [.. lengths],
            SlotOfMember = slotOf,
            OutputMembers = outputs,
            ArenaSize = next,
            SavedSize = savedSize,
            ExternalReadInBackward = externalRead,
        };
    }
}
