using System.Numerics;
using System.Text;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm;

/// <summary>
/// A traced graph ready to run: its products and other unfused primitives replayed one by one (each its own tape
/// entry, the products through our Gemm), its elementwise work in fused groups. Stages run in an order that respects
/// every dependency (see <see cref="FusionPlanner"/>).
/// </summary>
internal sealed class CompiledProgram<T>(TracedGraph<T> graph, object[] stages, bool observes)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public TracedGraph<T> Graph { get; } = graph;

    /// <summary>Each stage is a node index (int, a replayed primitive) or a <see cref="FusedGroup{T}"/>.</summary>
    public object[] Stages { get; } = stages;

    public IEnumerable<FusedGroup<T>> Groups => Stages.OfType<FusedGroup<T>>();

    /// <summary>
    /// The program run over a whole sequence as one tape entry when it is a recurrent step (input row, states...) ->
    /// (states..., output) that <see cref="CompiledSequence{T}.Plan"/> accepts; null with <see cref="SequenceReason"/> otherwise.
    /// </summary>
    public CompiledSequence<T>? Sequence => (sequence ??= PlanSequence()).Plan;

    /// <summary>Why <see cref="Sequence"/> is null.</summary>
    public string? SequenceReason => (sequence ??= PlanSequence()).Reason;

    private (CompiledSequence<T>? Plan, string? Reason)? sequence;

    private (CompiledSequence<T>?, string?) PlanSequence()
    {
        var plan = CompiledSequence<T>.Plan(this, out var reason);
        return (plan, reason);
    }

    /// <summary>Runs the program on <paramref name="inputs"/>; <paramref name="constants"/> replaces the traced constants (a twin's parameters), position for position.</summary>
    public Tensor<T>[] Run(Tensor<T>[] inputs, TensorBase[]? constants = null)
    {
        int madeBefore = TensorBase.Constructed;
        var values = new TensorBase?[Graph.Nodes.Length];
        var table = new ValueTable(inputs, values, constants ?? Graph.Constants);
        foreach (var stage in Stages)
        {
            if (stage is FusedGroup<T> group) group.Run(Graph, values, table);
            else
            {
                int n = (int)stage;
                var e = Graph.Nodes[n].Bind(table);
                values[n] = ((IReplayableRule)e.Rule).Replay(e);
            }
        }
        if (observes)
            foreach (var o in Graph.Observations) GateMonitor.Observe(o.Gate, (Tensor<T>)table[o.Source], o.Range);
        var outputs = new Tensor<T>[Graph.Outputs.Length];
        for (int k = 0; k < outputs.Length; k++) outputs[k] = (Tensor<T>)table[Graph.Outputs[k]];
        if (!observes) GiveBackInnerValues(values, outputs, madeBefore);
        return outputs;
    }

    /// <summary>
    /// Values that only the program read and nothing recorded (under NoGrad: at every step of an inference pass, the
    /// recurrent product and a group's inner outputs) go back to the pool now instead of to the collector. An output, a
    /// view of an output's storage, a value older than the run and a recorded value are never touched; nor is anything
    /// while a <see cref="GateMonitor"/> listener runs, since it may keep the gates it is shown.
    /// </summary>
    private static void GiveBackInnerValues(TensorBase?[] values, Tensor<T>[] outputs, int madeBefore)
    {
        foreach (var value in values)
            if (value is { OwnerTape: null }) value.RecycleTemporary(madeBefore, outputs);
    }

    /// <summary>The traced graph, then the stages: which primitives are replayed and which run fused, instruction by instruction.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine("traced graph:");
        foreach (var line in Graph.Describe().Split('\n')) text.AppendLine("  " + line);
        text.AppendLine("compiled stages:");
        foreach (var stage in Stages)
        {
            if (stage is FusedGroup<T> g) text.AppendLine("  " + g.Describe(s => s.ToString()).Replace("\n", "\n  "));
            else
            {
                var node = Graph.Nodes[(int)stage];
                text.AppendLine($"  %{(int)stage} = {node.Rule.Name}({string.Join(", ", node.Inputs)}) {ShapeMath.Format(node.Dims)} (replayed primitive)");
            }
        }
        return text.ToString().TrimEnd();
    }
}
