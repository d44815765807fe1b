using System.Numerics;
using System.Text;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm;

/// <summary>Where a traced operation reads a tensor from.</summary>
internal enum SourceKind { None, Input, Node, Constant }

/// <summary>Input k of the traced function, node k of the graph, or captured constant k (a parameter, a fixed tensor).</summary>
internal readonly record struct Source(SourceKind Kind, int Index)
{
    public override string ToString() => Kind switch { SourceKind.Input => $"in{Index}", SourceKind.Node => $"%{Index}", SourceKind.Constant => $"c{Index}", _ => "-" };
}

/// <summary>
/// One traced operation: the tape entry its primitive recorded (rule, constants, scalars) and where each of its tensor
/// inputs comes from, slot by slot: A, B, C, then the elements of a tensor list in Aux.
/// </summary>
internal sealed class TraceNode(TapeEntry entry, Source[] slots)
{
    public TapeEntry Entry { get; } = entry;
    public Source[] Slots { get; } = slots;
    public IBackwardRule Rule => Entry.Rule;
    public int[] Dims => Entry.Output.Dims;

    /// <summary>The sources of the tensor inputs, skipping empty slots.</summary>
    public IEnumerable<Source> Inputs => Slots.Where(s => s.Kind != SourceKind.None);

    /// <summary>The entry with each input slot filled by <paramref name="value"/> of its source: what <see cref="IReplayableRule.Replay"/> and the rules read.</summary>
    public TapeEntry Bind(Func<Source, TensorBase> value) => Bind(new ValueTable(null, null, null, value));

    /// <summary><see cref="Bind(Func{Source, TensorBase})"/> without a delegate: the per-step path of a compiled program.</summary>
    public TapeEntry Bind(in ValueTable table)
    {
        var e = Entry;
        e.A = Slots[0].Kind == SourceKind.None ? null : table[Slots[0]];
        e.B = Slots[1].Kind == SourceKind.None ? null : table[Slots[1]];
        e.C = Slots[2].Kind == SourceKind.None ? null : table[Slots[2]];
        if (e.Aux is TensorBase[] many)
        {
            var bound = (TensorBase[])Array.CreateInstance(many.GetType().GetElementType()!, many.Length);
            for (int i = 0; i < many.Length; i++) bound[i] = table[Slots[3 + i]];
            e.Aux = bound;
        }
        return e;
    }
}

/// <summary>The values of one run of a traced graph: its inputs, its nodes computed so far and its constants (or a lookup function).</summary>
internal readonly struct ValueTable(TensorBase[]? inputs, TensorBase?[]? nodes, TensorBase[]? constants, Func<Source, TensorBase>? lookup = null)
{
    public TensorBase this[Source s] => lookup is not null ? lookup(s) : s.Kind switch
    {
        SourceKind.Input => inputs![s.Index],
        SourceKind.Node => nodes![s.Index] ?? throw new InvalidOperationException($"compiled program: value %{s.Index} was read before it was computed"),
        _ => constants![s.Index],
    };
}

/// <summary>A gate that the traced function reported to <see cref="GateMonitor"/>.</summary>
internal sealed record Observation(string Gate, Source Source, GateRange Range);

/// <summary>
/// The graph of public primitives that one run of a function on stand-in tensors recorded (see <see cref="Tracing"/>):
/// nodes in execution order, captured constants, outputs and gate observations.
/// </summary>
internal sealed class TracedGraph<T>(int[][] inputShapes, TraceNode[] nodes, TensorBase[] constants, Source[] outputs, Observation[] observations)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public int[][] InputShapes { get; } = inputShapes;
    public TraceNode[] Nodes { get; } = nodes;
    public TensorBase[] Constants { get; } = constants;
    public Source[] Outputs { get; } = outputs;
    public Observation[] Observations { get; } = observations;

    /// <summary>The dims of whatever <paramref name="s"/> names.</summary>
    public int[] DimsOf(Source s) => s.Kind switch
    {
        SourceKind.Input => InputShapes[s.Index],
        SourceKind.Node => Nodes[s.Index].Dims,
        _ => Constants[s.Index].Dims,
    };

    /// <summary>One line per node: <c>%3 = Sigmoid(%2) [8, 32]</c>.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        for (int k = 0; k < InputShapes.Length; k++) text.AppendLine($"in{k} {ShapeMath.Format(InputShapes[k])}");
        for (int k = 0; k < Constants.Length; k++) text.AppendLine($"c{k} {Constants[k].ShapeText} (captured)");
        for (int i = 0; i < Nodes.Length; i++)
            text.AppendLine($"%{i} = {Nodes[i].Rule.Name}({string.Join(", ", Nodes[i].Inputs)}) {ShapeMath.Format(Nodes[i].Dims)}");
        text.Append($"return {string.Join(", ", Outputs)}");
        foreach (var o in Observations) text.Append($"\nobserve \"{o.Gate}\" {o.Source}");
        return text.ToString();
    }
}

/// <summary>Why a function could not be traced; the compiled path then falls back to running it interpreted.</summary>
internal sealed class TraceException(string reason) : Exception(reason);

/// <summary>
/// Tracing: run a function of tensors once on stand-in inputs of the real shapes and capture what the engine's own
/// primitives record (every operation is recorded while tracing, whatever the grad mode), so the traced graph is made
/// of the very primitives the function calls, with nothing defined twice. Two traces on different stand-in values must
/// agree; otherwise the function reads its inputs' values (branches on them, or builds tensors from them) and cannot be
/// replayed as a fixed graph.
/// </summary>
internal static class Tracing
{
    [ThreadStatic] private static HashSet<TensorBase>? standInsOfTrace;
    [ThreadStatic] private static string? valueRead;

    /// <summary>
    /// Called by every public accessor of tensor values while tracing: reading a value that depends on the inputs
    /// (to branch on it or build a tensor from it) makes the graph depend on the values, which a fixed graph cannot.
    /// </summary>
    internal static void NoteValueRead(TensorBase t, string op)
    {
        if (standInsOfTrace is not null && (!t.IsLeaf || standInsOfTrace.Contains(t)))
            valueRead ??= $"{op} of a {t.ShapeText} tensor computed from the inputs";
    }

    public static TracedGraph<T> Capture<T>(Func<Tensor<T>[], Tensor<T>[]> f, int[][] shapes, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        // In (0.1, 0.9): a stand-in must be a valid argument for Log, Sqrt and divisions as well as for tanh.
        var standIns = shapes.Select(s => Tensor.RandomUniform<T>(rng, s, 0.1, 0.9).RequireGrad()).ToArray();
        var observed = new List<(string, TensorBase, GateRange)>();
        using var tape = Tape.UsePrivateTape();
        var previousTracer = GateMonitor.tracer;
        GateMonitor.tracer = (gate, t, range) => observed.Add((gate, t, range));
        Tape.tracing++;
        standInsOfTrace = new HashSet<TensorBase>(standIns, TensorIdentity.Instance);
        valueRead = null;
        Tensor<T>[] outputs;
        try
        {
            outputs = f(standIns);
            if (valueRead is not null)
                throw new TraceException($"the step reads tensor values ({valueRead}), so it is not one fixed graph");
        }
        catch (Exception ex)
        {
            Tape.Current.Reset();
            if (ex is TraceException) throw;
            throw new TraceException($"the function failed on stand-in inputs: {ex.Message}");
        }
        finally
        {
            standInsOfTrace = null;
            Tape.tracing--;
            GateMonitor.tracer = previousTracer;
        }
        try
        {
            return Build(Tape.Current, standIns, outputs, observed, shapes);
        }
        finally
        {
            Tape.Current.Reset();
        }
    }

    private static TracedGraph<T> Build<T>(Tape tape, Tensor<T>[] standIns, Tensor<T>[] outputs, List<(string Gate, TensorBase Tensor, GateRange Range)> observed, int[][] shapes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var where = new Dictionary<TensorBase, Source>(TensorIdentity.Instance);
        for (int k = 0; k < standIns.Length; k++) where[standIns[k]] = new Source(SourceKind.Input, k);
        var constants = new List<TensorBase>();
        Source SourceOf(TensorBase t)
        {
            if (where.TryGetValue(t, out var s)) return s;
            if (t.OwnerTape == tape && !t.IsLeaf)
                throw new TraceException($"an operation reads a tensor of this step that was recorded outside it ({t.ShapeText})");
            s = new Source(SourceKind.Constant, constants.Count);
            constants.Add(t);
            return where[t] = s;
        }
        var entries = tape.Entries;
        var nodes = new TraceNode[entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (e.Rule is not IReplayableRule)
                throw new TraceException($"operation {e.Rule.Name} cannot be replayed by a compiled step");
            var many = e.Aux as TensorBase[];
            var slots = new Source[3 + (many?.Length ?? 0)];
            slots[0] = e.A is null ? default : SourceOf(e.A);
            slots[1] = e.B is null ? default : SourceOf(e.B);
            slots[2] = e.C is null ? default : SourceOf(e.C);
            for (int j = 0; j < (many?.Length ?? 0); j++) slots[3 + j] = SourceOf(many![j]);
            nodes[i] = new TraceNode(e, slots);
            where[e.Output] = new Source(SourceKind.Node, i);
        }
        var outs = outputs.Select(SourceOf).ToArray();
        var observations = observed.Select(o => new Observation(o.Gate, SourceOf(o.Tensor), o.Range)).ToArray();
        return new TracedGraph<T>(shapes, nodes, [.. constants], outs, observations);
    }

    /// <summary>Null when two traces of one function on different stand-in values are the same graph; otherwise what differs.</summary>
    public static string? Difference<T>(TracedGraph<T> a, TracedGraph<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string ReadsValues = "the step reads its inputs' values (a branch on them, or a tensor made from them), so it is not one fixed graph";
        if (a.Nodes.Length != b.Nodes.Length) return $"{ReadsValues}: {a.Nodes.Length} and {b.Nodes.Length} operations on two traces";
        if (a.Constants.Length != b.Constants.Length) return ReadsValues;
        for (int i = 0; i < a.Nodes.Length; i++)
        {
            var (x, y) = (a.Nodes[i].Entry, b.Nodes[i].Entry);
            bool same = x.Rule == y.Rule && ShapeMath.Equal(x.Output.Dims, y.Output.Dims) && x.I0 == y.I0 && x.I1 == y.I1 && x.I2 == y.I2
                && x.D0.Equals(y.D0) && x.D1.Equals(y.D1) && a.Nodes[i].Slots.SequenceEqual(b.Nodes[i].Slots) && SameAux(x.Aux, y.Aux);
            if (!same) return $"{ReadsValues}: operation %{i} ({x.Rule.Name}) differs between two traces";
        }
        for (int k = 0; k < a.Constants.Length; k++)
            if (!ReferenceEquals(a.Constants[k], b.Constants[k]) && !SameValues((Tensor<T>)a.Constants[k], (Tensor<T>)b.Constants[k]))
                return $"{ReadsValues}: a tensor created inside it ({a.Constants[k].ShapeText}) has other values on another trace";
        if (!a.Outputs.SequenceEqual(b.Outputs) || !a.Observations.SequenceEqual(b.Observations)) return ReadsValues;
        return null;

        // A list of tensors is compared through the slots; recorded values (a Where's mask) must be equal.
        static bool SameAux(object? p, object? q) => p switch
        {
            null => q is null,
            TensorBase[] => q is TensorBase[],
            T[] u => q is T[] v && u.AsSpan().SequenceEqual(v),
            _ => p.GetType() == q?.GetType(),
        };
    }

    private static bool SameValues<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        ShapeMath.Equal(a.Dims, b.Dims) && a.Data.AsSpan().SequenceEqual(b.Data);
}
