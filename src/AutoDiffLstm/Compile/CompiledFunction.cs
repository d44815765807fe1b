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
    private readonly TensorBase[] parameters;
    private readonly List<Compiled> cache;   // shared with this function's twins (see Twin)
    private readonly Lock gate;
    private readonly Dictionary<Compiled, TensorBase[]> boundConstants = new(ReferenceEqualityComparer.Instance);

    internal CompiledFunction(Func<Tensor<T>[], Tensor<T>[]> function, string name, TensorBase[]? parameters = null)
        : this(function, name, parameters ?? [], [], new Lock()) { }

    private CompiledFunction(Func<Tensor<T>[], Tensor<T>[]> function, string name, TensorBase[] parameters, List<Compiled> cache, Lock gate)
    {
        this.function = function;
        this.parameters = parameters;
        this.cache = cache;
        this.gate = gate;
        Name = name;
    }

    /// <summary>
    /// The same code over other parameters (a cell's <c>WithParameters</c> twin: the same step, other tensors in the
    /// same order). It shares this function's traced programs: a program's captured constants that are parameters are
    /// rebound to the twin's, by position, so forward-mode and second-order derivatives, which rebuild a layer over
    /// stand-in parameters on every call, do not trace again. A program that captured any other tensor is not shared.
    /// </summary>
    internal CompiledFunction<T> Twin(Func<Tensor<T>[], Tensor<T>[]> twinFunction, TensorBase[] twinParameters)
    {
        if (twinParameters.Length != parameters.Length)
            throw new ArgumentException($"{Name}: a twin needs {parameters.Length} parameters, got {twinParameters.Length}.", nameof(twinParameters));
        return new(twinFunction, Name, twinParameters, cache, gate);
    }

    /// <summary>The name used in reports.</summary>
    public string Name { get; }

    /// <summary>Runs the function: compiled when it traces for these shapes, interpreted otherwise.</summary>
    public Tensor<T>[] Invoke(params Tensor<T>[] inputs)
    {
        if (Autograd.AnomalyDetectionEnabled || Compiler.Interpreting) return function(inputs);
        var entry = Find(inputs, Autograd.IsGradEnabled, GateMonitor.IsListening) ?? LookupEntry(inputs.Select(t => t.Dims).ToArray(), GateMonitor.IsListening);
        return entry.Program is null ? function(inputs) : entry.Program.Run(inputs, Constants(entry));
    }

    /// <summary>
    /// The step's program planned over a whole sequence, with its constants (this function's parameters), when the
    /// function runs compiled for these shapes and the plan accepts it (see <see cref="CompiledSequence{T}"/>); else null.
    /// </summary>
    internal (CompiledSequence<T> Sequence, TensorBase[] Constants)? SequenceFor(int[][] shapes)
    {
        if (Autograd.AnomalyDetectionEnabled || Compiler.Interpreting || Compiler.SteppingOnly) return null;
        var entry = LookupEntry(shapes, observe: false);
        if (entry.Program?.Sequence is not { } sequence) return null;
        return (sequence, Constants(entry) ?? entry.Program.Graph.Constants);
    }

    /// <summary>Why a recurrent step of these shapes cannot run a whole sequence as one tape entry, or null when it can.</summary>
    internal string? SequenceReason(int[][] shapes)
    {
        var (program, reason, _) = Lookup(shapes, observe: false);
        return program is null ? $"it runs interpreted ({reason})" : program.SequenceReason;
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
        get { lock (gate) return cache.Where(Serves).Select(c => (c.Program, c.Reason)).ToArray(); }
    }

    /// <summary>One cache entry: a program (or the reason there is none) for one (shapes, grad mode, observing) key.</summary>
    /// <remarks>
    /// <see cref="ParameterOfConstant"/>: for each constant of the program, the position of the parameter it is in
    /// <see cref="Owner"/>'s list, or -1 (a tensor created inside the function, the same on every trace). Null when the
    /// program captured a tensor that is not a parameter: then only its owner runs it.
    /// </remarks>
    private sealed record Compiled(int[][] Shapes, bool Grad, bool Observe, CompiledProgram<T>? Program, string? Reason, double Milliseconds,
        CompiledFunction<T> Owner, int[]? ParameterOfConstant);

    private bool Serves(Compiled c) => ReferenceEquals(c.Owner, this) || c.ParameterOfConstant is not null;

    // The program's constants with the owner's parameters replaced by this function's (computed once per program).
    private TensorBase[]? Constants(Compiled c)
    {
        if (c.Program is null || ReferenceEquals(c.Owner, this)) return null;
        lock (gate)
        {
            if (!boundConstants.TryGetValue(c, out var bound))
                boundConstants[c] = bound = c.Program.Graph.Constants.Select((k, i) => c.ParameterOfConstant![i] is int p and >= 0 ? parameters[p] : k).ToArray();
            return bound;
        }
    }

    // The per-step lookup: a linear scan comparing dims, without allocating (a cell sees one or two keys).
    private Compiled? Find(Tensor<T>[] inputs, bool grad, bool observe)
    {
        lock (gate)
        {
            foreach (var c in cache)
            {
                if (c.Grad != grad || c.Observe != observe || c.Shapes.Length != inputs.Length || !Serves(c)) continue;
                bool same = true;
                for (int k = 0; same && k < inputs.Length; k++) same = ShapeMath.Equal(c.Shapes[k], inputs[k].Dims);
                if (same) return c;
            }
            return null;
        }
    }

    private (CompiledProgram<T>? Program, string? Reason, double Milliseconds) Lookup(int[][] shapes, bool observe)
    {
        var c = LookupEntry(shapes, observe);
        return (c.Program, c.Reason, c.Milliseconds);
    }

    // Compared element by element: this runs at every whole-sequence pass, which should allocate nothing.
    private static bool SameShapes(int[][] a, int[][] b)
    {
        if (a.Length != b.Length) return false;
        for (int k = 0; k < a.Length; k++)
            if (!ShapeMath.Equal(a[k], b[k])) return false;
        return true;
    }

    private Compiled LookupEntry(int[][] shapes, bool observe)
    {
        bool grad = Autograd.IsGradEnabled;
        lock (gate)
        {
            foreach (var c in cache)
                if (c.Grad == grad && c.Observe == observe && Serves(c) && SameShapes(c.Shapes, shapes))
                    return c;
            var clock = Stopwatch.StartNew();
            CompiledProgram<T>? program = null;
            int[]? parameterOfConstant = null;
            string? reason;
            try
            {
                var first = Tracing.Capture(function, shapes, seed: 1);
                var second = Tracing.Capture(function, shapes, seed: 2);
                reason = Tracing.Difference(first, second);
                if (reason is null)
                {
                    program = FusionPlanner.Plan(first, observe);
                    parameterOfConstant = ParameterPositions(first.Constants, second.Constants);
                }
            }
            catch (TraceException ex)
            {
                reason = ex.Message;
            }
            var entry = new Compiled(shapes.Select(d => (int[])d.Clone()).ToArray(), grad, observe, program, reason, clock.Elapsed.TotalMilliseconds, this, parameterOfConstant);
            cache.Add(entry);
            return entry;
        }
    }

    // A constant that is the same tensor on both traces was captured from outside; it must be one of the parameters for
    // the program to serve twins. One created inside the function differs by reference (its values were compared).
    private int[]? ParameterPositions(TensorBase[] first, TensorBase[] second)
    {
        var positions = new int[first.Length];
        for (int k = 0; k < first.Length; k++)
        {
            positions[k] = Array.FindIndex(parameters, p => ReferenceEquals(p, first[k]));
            if (positions[k] < 0 && ReferenceEquals(first[k], second[k])) return null;
        }
        return positions;
    }
}

/// <summary>Entry point of tracing and fusion (see <see cref="CompiledFunction{T}"/>).</summary>
public static class Compiler
{
    [ThreadStatic] private static int interpretDepth;

    /// <summary>
    /// Until disposed, every compiled function of this thread runs as written. Second-order passes use it: a fused group
    /// differentiated twice replays its members from its inputs, which measured slower than differentiating the
    /// interpreted graph (see <see cref="HvpMode"/>).
    /// </summary>
    internal static Autograd.Scope Interpret()
    {
        interpretDepth++;
        return new Autograd.Scope(static () => interpretDepth--);
    }

    internal static bool Interpreting => interpretDepth > 0;

    [ThreadStatic] private static int stepByStepDepth;

    /// <summary>
    /// Until disposed, an unrolled recurrence on this thread records one compiled step at a time instead of one entry
    /// for the whole sequence: what <see cref="Autograd.Jacobian{T}"/> opens, whose one cotangent pass per output element
    /// would replay a whole sequence's steps each time (a sequence's differentiable backward replays them; its tangent
    /// pass does not).
    /// </summary>
    internal static Autograd.Scope StepByStep()
    {
        stepByStepDepth++;
        return new Autograd.Scope(static () => stepByStepDepth--);
    }

    internal static bool SteppingOnly => stepByStepDepth > 0;

    /// <summary>
    /// Whether a whole-sequence pass that needs a fused group's generated kernel before it exists has it generated on
    /// a thread-pool thread and runs the group instruction by instruction meanwhile, with the same bits (true, the
    /// default, as a tiered JIT does), or generates it first (false: a new cell's first iteration waits 15-50 ms per
    /// group on the machines measured, and every pass after it runs the kernel; for timing first iterations).
    /// Process-wide, for float and double.
    /// </summary>
    public static bool GenerateKernelsInBackground
    {
        get => GroupKernel<float>.GenerateInBackground;
        set => (GroupKernel<float>.GenerateInBackground, GroupKernel<double>.GenerateInBackground) = (value, value);
    }

    /// <summary>Wraps <paramref name="function"/> so that it runs traced and fused (see <see cref="CompiledFunction{T}"/>).</summary>
    public static CompiledFunction<T> Compile<T>(Func<Tensor<T>[], Tensor<T>[]> function, string name = "function") where T : unmanaged, IFloatingPointIeee754<T> =>
        new(function, name);
}
