using System.Diagnostics;
using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm;

/// <summary>
/// A pure function of tensors, traced once per input shapes and grad mode and run compiled: its products stay calls to
/// our Gemm, its elementwise work runs as fused groups, each ONE tape entry, forward and backward derived from the
/// primitives' own declarations (the idea of JAX's <c>jit</c>, for the engine's eager tape). A function that cannot be
/// traced runs as written, interpreted, and <see cref="FallbackReason"/> says why.
/// </summary>
/// <remarks>
/// Traceable means: the function calls the engine's public primitives on its inputs and on fixed tensors (parameters
/// are read by reference, so updates in place are seen), returns tensors, and neither reads its inputs' values (a
/// branch, <c>Item()</c>, a tensor built from values) nor has side effects other than <see cref="GateMonitor"/>
/// reports, which a compiled run replays. Two traces on different stand-in inputs must give the same graph; that is how
/// value reads are caught. Under anomaly detection, the interpreted path always runs (it names the failing primitive).
/// </remarks>
public sealed class CompiledFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<Tensor<T>[], Tensor<T>[]> function;
    private readonly List<Compiled> cache = [];
    private readonly Lock gate = new();

    internal CompiledFunction(Func<Tensor<T>[], Tensor<T>[]> function, string name)
    {
        this.function = function;
        Name = name;
    }

    /// <summary>The name used in reports.</summary>
    public string Name { get; }

    /// <summary>Runs the function: compiled when it traces for these shapes, interpreted otherwise.</summary>
    public Tensor<T>[] Invoke(params Tensor<T>[] inputs)
    {
        if (Autograd.AnomalyDetectionEnabled) return function(inputs);
        var program = Find(inputs, Autograd.IsGradEnabled, GateMonitor.IsListening)?.Program
            ?? Lookup(inputs.Select(t => t.Dims).ToArray(), GateMonitor.IsListening).Program;
        return program is null ? function(inputs) : program.Run(inputs);
    }

    /// <summary>Why the function runs interpreted for inputs of these shapes, or null when it runs compiled.</summary>
    public string? FallbackReason(params int[][] shapes) => Lookup(shapes, observe: false).Reason;

    /// <summary>
    /// The traced graph and its compiled stages for inputs of these shapes (each fused group with its instructions),
    /// or the reason it runs interpreted; with the time tracing and planning took.
    /// </summary>
    public string Explain(params int[][] shapes)
    {
        var (program, reason, ms) = Lookup(shapes, observe: false);
        return program is null
            ? $"{Name}: runs interpreted: {reason}"
            : $"{Name}: compiled in {ms:0.0} ms, {program.Graph.Nodes.Length} primitives -> {program.Stages.Length} stages ({program.Groups.Count()} fused)\n{program.Describe()}";
    }

    /// <summary>Number of fused groups for inputs of these shapes (0 when it runs interpreted).</summary>
    public int FusedGroupCount(params int[][] shapes) => Lookup(shapes, observe: false).Program?.Groups.Count() ?? 0;

    /// <summary>The programs traced so far and the reasons of those that run interpreted (null: compiled), one per cache entry.</summary>
    internal IReadOnlyList<(CompiledProgram<T>? Program, string? Reason)> Traced
    {
        get { lock (gate) return cache.Select(c => (c.Program, c.Reason)).ToArray(); }
    }

    /// <summary>One cache entry: a program (or the reason there is none) for one (shapes, grad mode, observing) key.</summary>
    private sealed record Compiled(int[][] Shapes, bool Grad, bool Observe, CompiledProgram<T>? Program, string? Reason, double Milliseconds);

    // The per-step lookup: a linear scan comparing dims, without allocating (a cell sees one or two keys).
    private Compiled? Find(Tensor<T>[] inputs, bool grad, bool observe)
    {
        lock (gate)
        {
            foreach (var c in cache)
            {
                if (c.Grad != grad || c.Observe != observe || c.Shapes.Length != inputs.Length) continue;
                bool same = true;
                for (int k = 0; same && k < inputs.Length; k++) same = ShapeMath.Equal(c.Shapes[k], inputs[k].Dims);
                if (same) return c;
            }
            return null;
        }
    }

    private (CompiledProgram<T>? Program, string? Reason, double Milliseconds) Lookup(int[][] shapes, bool observe)
    {
        bool grad = Autograd.IsGradEnabled;
        lock (gate)
        {
            foreach (var c in cache)
                if (c.Grad == grad && c.Observe == observe && c.Shapes.Length == shapes.Length && c.Shapes.Zip(shapes).All(p => ShapeMath.Equal(p.First, p.Second)))
                    return (c.Program, c.Reason, c.Milliseconds);
            var clock = Stopwatch.StartNew();
            CompiledProgram<T>? program = null;
            string? reason;
            try
            {
                var first = Tracing.Capture(function, shapes, seed: 1);
                reason = Tracing.Difference(first, Tracing.Capture(function, shapes, seed: 2));
                if (reason is null) program = FusionPlanner.Plan(first, observe);
            }
            catch (TraceException ex)
            {
                reason = ex.Message;
            }
            cache.Add(new Compiled(shapes.Select(d => (int[])d.Clone()).ToArray(), grad, observe, program, reason, clock.Elapsed.TotalMilliseconds));
            return (program, reason, clock.Elapsed.TotalMilliseconds);
        }
    }
}

/// <summary>Entry point of tracing and fusion (see <see cref="CompiledFunction{T}"/>).</summary>
public static class Compiler
{
    /// <summary>Wraps <paramref name="function"/> so that it runs traced and fused (see <see cref="CompiledFunction{T}"/>).</summary>
    public static CompiledFunction<T> Compile<T>(Func<Tensor<T>[], Tensor<T>[]> function, string name = "function") where T : unmanaged, IFloatingPointIeee754<T> =>
        new(function, name);
}
