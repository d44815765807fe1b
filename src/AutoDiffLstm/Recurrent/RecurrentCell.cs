using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// A recurrent cell in the sense of Flux.jl: a function (x_t, state) -> state' plus a zero initial state, built only
/// from the engine's public primitives (so its gradient comes from their backward rules, with nothing hand-derived).
/// One generic unroll (<see cref="Unroll"/>) serves every cell; the output at each step is <see cref="Output"/> (by
/// convention the first state tensor, h).
/// </summary>
/// <remarks>
/// A step is split in two so the input term can leave the time loop: <see cref="ProjectInput"/> (x -> W_ih x + b_ih for
/// the built-in cells) must act on each row independently and must not depend on the state; the unroll then applies it
/// to all T*B rows at once, as one matrix product, and hands row block t to <see cref="Step"/>. Cells without such a
/// term keep the identity projection (<see cref="HasInputProjection"/> false) and receive x_t itself.
/// </remarks>
public abstract class RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Sets up the description shared by all cells.</summary>
    protected RecurrentCell(string kind, int inputSize, int hiddenSize, IReadOnlyList<string> stateNames, CellParameters<T> parameters)
    {
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"{kind}: input size ({inputSize}) and hidden size ({hiddenSize}) must be positive.");
        if (stateNames.Count == 0 || stateNames.Distinct().Count() != stateNames.Count)
            throw new ArgumentException($"{kind}: the state names ({string.Join(", ", stateNames)}) must be non-empty and distinct.");
        Kind = kind;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        StateNames = stateNames.ToArray();
        Parameters = parameters;
    }

    /// <summary>Short name of the cell type, e.g. "lstm", "gru", "rnn_tanh", "lstm_cifg".</summary>
    public string Kind { get; }

    /// <summary>Width I of the input x_t ([B, I]).</summary>
    public int InputSize { get; }

    /// <summary>Width H of the output h_t ([B, H]).</summary>
    public int HiddenSize { get; }

    /// <summary>Names of the state tensors, in order (the first is the output, h).</summary>
    public IReadOnlyList<string> StateNames { get; }

    /// <summary>Width of state tensor <paramref name="index"/> (H unless a cell carries something wider).</summary>
    public virtual int StateSize(int index) => HiddenSize;

    /// <summary>The cell's parameters with PyTorch names (without the layer suffix _l0).</summary>
    public CellParameters<T> Parameters { get; }

    /// <summary>The parameters as (name, tensor) pairs, in PyTorch order.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor<T>>> NamedParameters() => Parameters.ToArray();

    /// <summary>True when <see cref="ProjectInput"/> is not the identity (it may then be hoisted out of the time loop).</summary>
    public virtual bool HasInputProjection => false;

    /// <summary>The state-independent input term for rows of inputs: [N, I] -> [N, P]. The identity by default.</summary>
    public virtual Tensor<T> ProjectInput(Tensor<T> x) => x;

    /// <summary>One time step from the projected input (<see cref="ProjectInput"/> of x_t, [B, P]) and the previous state.</summary>
    public abstract RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state);

    /// <summary>
    /// <see cref="Step"/> followed by <see cref="Output"/> as one <see cref="CompiledFunction{T}"/> of (projected input,
    /// state tensors...) returning (next state tensors..., output): traced once per shape, its elementwise work fused.
    /// The unroll runs it unless <see cref="UnrollOptions{T}.Compile"/> is false.
    /// </summary>
    /// <remarks>A <see cref="WithParameters"/> twin shares the traced programs of the cell it was made from.</remarks>
    public CompiledFunction<T> CompiledStep => compiledStep ??= stepOrigin is not null
        ? stepOrigin.Twin(StepFunction, ParameterTensors)
        : new CompiledFunction<T>(StepFunction, $"{Kind}.Step", ParameterTensors);

    private CompiledFunction<T>? compiledStep, stepOrigin;

    /// <summary>The unroll's name in its messages, <c>Unroll(kind)</c> (made once: a pass names itself even when nothing goes wrong).</summary>
    internal string UnrollName => unrollName ??= $"Unroll({Kind})";
    private string? unrollName;

    private Tensor<T>[] StepFunction(Tensor<T>[] inputs)
    {
        var next = Step(inputs[0], new RecurrentState<T>(StateNames, inputs[1..]));
        return [.. next.Tensors, Output(next)];
    }

    private TensorBase[] ParameterTensors => Parameters.Select(p => (TensorBase)p.Value).ToArray();

    /// <summary>The shapes of the compiled step's inputs for a batch of <paramref name="batch"/>: the projected input [B, P], then each state tensor.</summary>
    public int[][] StepInputShapes(int batch)
    {
        int width = InputSize;
        if (HasInputProjection)
            using (Autograd.NoGrad()) width = ProjectInput(Tensor.Zeros<T>(1, InputSize)).Shape[^1];
        return [[batch, width], .. StateNames.Select((_, i) => new[] { batch, StateSize(i) })];
    }

    /// <summary>How the step runs compiled for a batch of <paramref name="batch"/>: its traced graph and fused groups, or why it runs interpreted.</summary>
    /// <remarks>The last line says whether an unrolled pass runs the step over the whole sequence as one tape entry (see <see cref="UnrollOptions{T}.Compile"/>), or why it records one per step.</remarks>
    public string ExplainCompiledStep(int batch = 8)
    {
        var shapes = StepInputShapes(batch);
        string whole = CompiledStep.SequenceReason(shapes) is { } why
            ? $"unrolled: one tape entry per step, since {why}"
            : "unrolled: the whole sequence as one tape entry (no mask, retained state gradients or gate listener)";
        return CompiledStep.Explain(shapes) + "\n" + whole;
    }

    /// <summary>The step's output, [B, H]: the state tensor h.</summary>
    public virtual Tensor<T> Output(RecurrentState<T> state) => state[0];

    /// <summary>One time step from the raw input x_t ([B, I]): <c>Step(ProjectInput(x), state)</c>, with shape checks.</summary>
    public RecurrentState<T> Next(Tensor<T> x, RecurrentState<T> state)
    {
        if (x.Rank != 2 || x.Shape[1] != InputSize)
            throw new ArgumentException($"{Kind}.Next: the input has shape {x.ShapeText}; expected [B, {InputSize}].");
        ValidateState($"{Kind}.Next", state, x.Shape[0]);
        return Step(ProjectInput(x), state);
    }

    /// <summary>The zero state for a batch of <paramref name="batch"/> sequences (constant tensors, no gradient).</summary>
    public RecurrentState<T> InitialState(int batch)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"{Kind}.InitialState: the batch size must be positive, got {batch}.");
        return new RecurrentState<T>(StateNames, StateNames.Select((_, i) => Tensor.Zeros<T>(batch, StateSize(i))).ToArray());
    }

    /// <summary>
    /// A cell of the same kind and configuration that uses the given tensors as its parameters (every name of
    /// <see cref="Parameters"/>, same shapes; the tensors are used as they are, not copied). This is how a layer is
    /// rebuilt from loaded weights or from the perturbed inputs of a gradient check.
    /// </summary>
    public RecurrentCell<T> WithParameters(IEnumerable<KeyValuePair<string, Tensor<T>>> parameters)
    {
        var given = new Dictionary<string, Tensor<T>>();
        foreach (var (name, tensor) in parameters)
            if (!given.TryAdd(name, tensor)) throw new ArgumentException($"{Kind}.WithParameters: the name '{name}' is given twice.");
        var ordered = new List<KeyValuePair<string, Tensor<T>>>();
        foreach (var (name, current) in Parameters)
        {
            if (!given.Remove(name, out var tensor))
                throw new ArgumentException($"{Kind}.WithParameters: parameter '{name}' {current.ShapeText} is missing.");
            if (!tensor.Shape.SequenceEqual(current.Shape))
                throw new ArgumentException($"{Kind}.WithParameters: parameter '{name}' has shape {tensor.ShapeText}; expected {current.ShapeText}.");
            ordered.Add(new(name, tensor));
        }
        if (given.Count > 0)
            throw new ArgumentException($"{Kind}.WithParameters: unknown parameter(s) {string.Join(", ", given.Keys)}; the cell has {string.Join(", ", Parameters.Names)}.");
        var twin = Rebuild(new CellParameters<T>(ordered));
        twin.stepOrigin = CompiledStep;
        return twin;
    }

    /// <summary>
    /// Creates this cell's twin over <paramref name="parameters"/> (already checked: same names and shapes). The twin must
    /// run the same step with the same settings: its <see cref="CompiledStep"/> reuses this cell's traced programs.
    /// </summary>
    protected abstract RecurrentCell<T> Rebuild(CellParameters<T> parameters);

    /// <summary>Throws unless <paramref name="state"/> has this cell's names and shapes [batch, StateSize(i)]; the message names <paramref name="op"/> and then <paramref name="which"/> state, if given.</summary>
    public void ValidateState(string op, RecurrentState<T> state, int batch, string? which = null)
    {
        bool ok = state.Count == StateNames.Count;
        for (int i = 0; ok && i < state.Count; i++)
            ok = state.Names[i] == StateNames[i] && state[i].Rank == 2 && state[i].Shape[0] == batch && state[i].Shape[1] == StateSize(i);
        if (!ok)
            throw new ArgumentException(
                $"{op}{(which is null ? "" : " " + which)}: the state is {state}; expected ({string.Join(", ", StateNames.Select((n, i) => $"{n} [{batch}, {StateSize(i)}]"))}).");
    }

    /// <summary>Kind and sizes, e.g. <c>lstm(I=3, H=8)</c>.</summary>
    public override string ToString() => $"{Kind}(I={InputSize}, H={HiddenSize})";
}
