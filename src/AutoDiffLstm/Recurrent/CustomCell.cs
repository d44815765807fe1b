using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>One time step of a <see cref="CustomCell{T}"/>: the new state tensors, in the order of its state names.</summary>
/// <param name="input">x_t [B, I], or the cell's projection of it when one was given.</param>
/// <param name="state">The previous state (look tensors up by name: <c>state["h"]</c>).</param>
/// <param name="parameters">The cell's parameters (by name: <c>parameters["weight_ih"]</c>).</param>
public delegate Tensor<T>[] CustomStep<T>(Tensor<T> input, RecurrentState<T> state, CellParameters<T> parameters)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>The state-independent input term of a <see cref="CustomCell{T}"/>, applied to rows [N, I] (may be hoisted out of the time loop).</summary>
public delegate Tensor<T> CustomProjection<T>(Tensor<T> x, CellParameters<T> parameters)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// A cell defined by a researcher's step function written with tensor primitives, e.g. a minimal gated unit in a few
/// lines. It gets everything the built-in cells get: unrolling, masking, stacking, bidirectional layers, truncated
/// BPTT, per-step state diagnostics and gradient checks, because the gradient of the step comes from the primitives.
/// </summary>
/// <example>
/// <code>
/// var mgu = new CustomCell&lt;double&gt;("mgu", inputSize: 3, hiddenSize: 8, stateNames: ["h"],
///     parameters: new Dictionary&lt;string, int[]&gt; { ["weight_ih"] = [16, 3], ["weight_hh"] = [16, 8], ["bias"] = [16] },
///     step: (x, s, p) =&gt; { ... return [hNext]; }, rng: new Rng(1));
/// </code>
/// </example>
public sealed class CustomCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly CustomStep<T> step;
    private readonly CustomProjection<T>? projection;
    private readonly int[] stateSizes;

    /// <summary>
    /// Defines a cell. Parameters are created with the given shapes (in the given order) and drawn like the built-in
    /// cells' (uniform in [-1/sqrt(H), 1/sqrt(H)]); every state tensor is [B, H] unless <paramref name="stateSizes"/>
    /// says otherwise, and starts at zero. The output of a step is the first state tensor.
    /// </summary>
    public CustomCell(string kind, int inputSize, int hiddenSize, IReadOnlyList<string> stateNames,
        IEnumerable<KeyValuePair<string, int[]>> parameters, CustomStep<T> step, Rng rng,
        CustomProjection<T>? projectInput = null, IReadOnlyList<int>? stateSizes = null)
        : this(kind, inputSize, hiddenSize, stateNames,
               DefaultInit.Parameters<T>(rng, hiddenSize, parameters.Select(p => (p.Key, p.Value))), step, projectInput, stateSizes) { }

    private CustomCell(string kind, int inputSize, int hiddenSize, IReadOnlyList<string> stateNames, CellParameters<T> parameters,
        CustomStep<T> step, CustomProjection<T>? projectInput, IReadOnlyList<int>? stateSizes)
        : base(kind, inputSize, hiddenSize, stateNames, parameters)
    {
        this.step = step ?? throw new ArgumentNullException(nameof(step));
        projection = projectInput;
        this.stateSizes = stateSizes?.ToArray() ?? Enumerable.Repeat(hiddenSize, stateNames.Count).ToArray();
        if (this.stateSizes.Length != stateNames.Count || this.stateSizes.Any(s => s <= 0) || this.stateSizes[0] != hiddenSize)
            throw new ArgumentException(
                $"{kind}: state sizes [{string.Join(", ", this.stateSizes)}] must be positive, one per state ({string.Join(", ", stateNames)}), and the first (the output) must equal the hidden size {hiddenSize}.");
    }

    /// <inheritdoc/>
    public override int StateSize(int index) => stateSizes[index];

    /// <inheritdoc/>
    public override bool HasInputProjection => projection is not null;

    /// <inheritdoc/>
    public override Tensor<T> ProjectInput(Tensor<T> x) => projection is null ? x : projection(x, Parameters);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var next = step(projectedInput, state, Parameters);
        int batch = state.BatchSize;
        bool ok = next is not null && next.Length == StateNames.Count;
        for (int i = 0; ok && i < next!.Length; i++)
            ok = next[i] is not null && next[i].Rank == 2 && next[i].Shape[0] == batch && next[i].Shape[1] == stateSizes[i];
        if (!ok)
            throw new InvalidOperationException(
                $"{Kind}: the step function returned ({(next is null ? "null" : string.Join(", ", next.Select(t => t?.ShapeText ?? "null")))}); " +
                $"expected the new ({string.Join(", ", StateNames.Select((n, i) => $"{n} [{batch}, {stateSizes[i]}]"))}).");
        return new RecurrentState<T>(StateNames, next!);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) =>
        new CustomCell<T>(Kind, InputSize, HiddenSize, StateNames, parameters, step, projection, stateSizes);
}
