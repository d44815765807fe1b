using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>Options of <see cref="RecurrentLayer{T}.Forward"/>.</summary>
public sealed record SequenceOptions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// One initial state per (layer, direction), in PyTorch's h_0 order: index layer * directions + direction
    /// (direction 1 is the reverse one). Null: all zeros.
    /// </summary>
    public IReadOnlyList<RecurrentState<T>>? InitialStates { get; init; }

    /// <summary>Length of each sequence of the batch (padding after it); exclusive with <see cref="Mask"/>.</summary>
    public int[]? Lengths { get; init; }

    /// <summary>[T, B] mask of live steps (non-zero = live); exclusive with <see cref="Lengths"/>. See <see cref="UnrollOptions{T}.Mask"/>.</summary>
    public Tensor<T>? Mask { get; init; }

    /// <summary>Truncated BPTT: detach every state at the time positions that are multiples of k (0: never). See <see cref="UnrollOptions{T}.DetachEvery"/>.</summary>
    public int DetachEvery { get; init; }

    /// <summary>Hoist each cell's input projection out of the time loop (default true).</summary>
    public bool HoistInputProjection { get; init; } = true;

    /// <summary>Retain the gradient of every per-step state tensor of every layer and direction (diagnostics; not with <see cref="CheckpointEvery"/>).</summary>
    public bool RetainStateGradients { get; init; }

    /// <summary>
    /// Gradient checkpointing for long sequences: each (layer, direction) pass keeps only the state entering every
    /// k-th step and recomputes the k steps in between during backward, so it trains in O(T/k + k) step activations
    /// instead of O(T), O(sqrt(T)) with <see cref="GradientCheckpoint.SqrtSteps"/> (k = ceil(sqrt(T))), at the cost of
    /// one extra forward pass (Chen, Xu, Zhang and Guestrin 2016; Griewank 1992). 0: off. The sequences between layers
    /// and the output sequence are results and are kept. Gradients are bit-identical to the uncheckpointed run except
    /// those of the parameters read only by a hoisted input projection, which agree to rounding; see
    /// <see cref="UnrollOptions{T}.CheckpointEvery"/>. <see cref="SequenceResult{T}.StepStates"/> is not kept.
    /// </summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Run cells that are linear in their state by a parallel scan over time where possible (default true). See <see cref="UnrollOptions{T}.ParallelForm"/>.</summary>
    public bool ParallelForm { get; init; } = true;

    /// <summary>Run each step compiled: traced once, elementwise work fused (default true). False: the interpreted tape. See <see cref="UnrollOptions{T}.Compile"/>.</summary>
    public bool Compile { get; init; } = true;
}

/// <summary>What a <see cref="RecurrentLayer{T}"/> pass produces.</summary>
public sealed class SequenceResult<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int directions;

    private readonly UnrollResult<T>[] passes;
    private RecurrentState<T>[]? finalStates;

    internal SequenceResult(Tensor<T> output, UnrollResult<T>[] passes, IReadOnlyList<RecurrentState<T>>[] stepStates, Tensor<T>[] layerOutputs, int directions)
    {
        Output = output;
        this.passes = passes;
        StepStates = stepStates;
        LayerOutputs = layerOutputs;
        this.directions = directions;
    }

    /// <summary>The last layer's outputs, [T, B, directions * H] (forward then reverse on the last axis; zero at padded steps).</summary>
    public Tensor<T> Output { get; }

    /// <summary>Final state of each (layer, direction), index layer * directions + direction (PyTorch's h_n order).</summary>
    /// <remarks>Made on first access from the passes' stacked states (<see cref="UnrollResult{T}.FinalState"/>).</remarks>
    public IReadOnlyList<RecurrentState<T>> FinalStates => finalStates ??= Array.ConvertAll(passes, p => p.FinalState);

    /// <summary>Per (layer, direction), the states after each time step in time order: StepStates[layer * directions + direction][t] (not kept with <see cref="SequenceOptions{T}.CheckpointEvery"/>: reading one throws).</summary>
    public IReadOnlyList<IReadOnlyList<RecurrentState<T>>> StepStates { get; }

    /// <summary>Every layer's output [T, B, directions * H] (including residual additions), first layer first.</summary>
    public IReadOnlyList<Tensor<T>> LayerOutputs { get; }

    /// <summary>The final state of one layer and direction.</summary>
    public RecurrentState<T> FinalState(int layer, int direction = 0) => FinalStates[layer * directions + direction];

    /// <summary>The per-step states of one layer and direction (index t).</summary>
    public IReadOnlyList<RecurrentState<T>> Steps(int layer, int direction = 0) => StepStates[layer * directions + direction];

    /// <summary>One final state tensor of every layer and direction stacked as PyTorch's h_n / c_n: [layers * directions, B, size].</summary>
    public Tensor<T> Final(string stateName) => Tensor.Stack(0, FinalStates.Select(s => s[stateName]).ToArray());
}
