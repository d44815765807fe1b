using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>Options of one unrolled pass of a cell over a sequence (<see cref="Unroll.Run"/>).</summary>
public sealed record UnrollOptions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The state before the first processed step; zeros (<see cref="RecurrentCell{T}.InitialState"/>) when null.</summary>
    public RecurrentState<T>? InitialState { get; init; }

    /// <summary>
    /// [T, B] mask of live steps (non-zero = live). At a padded step the state is carried unchanged and the output is
    /// zero. With a mask made from lengths (<see cref="SequenceMask.FromLengths{T}"/>) the reverse pass therefore
    /// starts each sequence at its own last step, as PyTorch's packed sequences do.
    /// </summary>
    public Tensor<T>? Mask { get; init; }

    /// <summary>Process t = T-1 down to 0 instead of 0 up to T-1 (outputs stay at their time positions).</summary>
    public bool Reverse { get; init; }

    /// <summary>
    /// Truncated backpropagation through time: when positive, the carried state is detached whenever the pass crosses
    /// a time position that is a multiple of k (forward: before steps k, 2k, ...; reverse: before steps k-1, 2k-1, ...
    /// counted from the end of each chunk), so gradients flow only within the chunks [0, k), [k, 2k), ... The forward
    /// values are unchanged. 0 means full backpropagation.
    /// </summary>
    public int DetachEvery { get; init; }

    /// <summary>Compute the cell's input projection for all T steps as one product before the loop (default), instead of once per step.</summary>
    public bool HoistInputProjection { get; init; } = true;

    /// <summary>Call <see cref="Tensor{T}.RetainGrad"/> on every per-step state tensor, so backward keeps dL/dh_t, dL/dc_t.</summary>
    public bool RetainStateGradients { get; init; }
}

/// <summary>The result of one unrolled pass.</summary>
public sealed class UnrollResult<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal UnrollResult(Tensor<T> output, RecurrentState<T> finalState, RecurrentState<T>[] states)
    {
        Output = output;
        FinalState = finalState;
        States = states;
    }

    /// <summary>The outputs h_t stacked in time order, [T, B, H] (zero at padded steps).</summary>
    public Tensor<T> Output { get; }

    /// <summary>The state after the last processed step (t = T-1 forward, t = 0 reverse; padded steps do not change it).</summary>
    public RecurrentState<T> FinalState { get; }

    /// <summary>States[t] is the state after processing time t (in time order, for either direction): the tensors to inspect or to <c>RetainGrad()</c>.</summary>
    public IReadOnlyList<RecurrentState<T>> States { get; }
}

/// <summary>The one generic unroll that serves every <see cref="RecurrentCell{T}"/>.</summary>
public static class Unroll
{
    /// <summary>
    /// Runs <paramref name="cell"/> over <paramref name="x"/> ([T, B, I]). Everything is recorded with ordinary
    /// primitives (Linear, Narrow, Where, Concat...), so backward is backpropagation through time.
    /// </summary>
    public static UnrollResult<T> Run<T>(RecurrentCell<T> cell, Tensor<T> x, UnrollOptions<T>? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new UnrollOptions<T>();
        string op = $"Unroll({cell.Kind})";
        if (x.Rank != 3 || x.Shape[0] == 0 || x.Shape[1] == 0 || x.Shape[2] != cell.InputSize)
            throw new ArgumentException($"{op}: the input has shape {x.ShapeText}; expected [T, B, {cell.InputSize}] with T, B >= 1.");
        if (options.DetachEvery < 0) throw new ArgumentOutOfRangeException(nameof(options), $"{op}: DetachEvery must be >= 0, got {options.DetachEvery}.");
        int steps = x.Shape[0], batch = x.Shape[1];
        var state = options.InitialState ?? cell.InitialState(batch);
        cell.ValidateState(op + " initial state", state, batch);
        var live = options.Mask is null ? null : SequenceMask.PerStep(op, options.Mask, steps, batch);
        Tensor<T>? zeros = live is null ? null : Tensor.Zeros<T>(batch, cell.HiddenSize);

        // The input term does not depend on the state, so all T*B rows go through one product before the loop.
        Tensor<T>? projected = null;
        if (cell.HasInputProjection && options.HoistInputProjection)
            projected = cell.ProjectInput(x.Reshape(steps * batch, cell.InputSize)).Reshape(steps, batch, -1);

        var outputs = new Tensor<T>[steps];
        var states = new RecurrentState<T>[steps];
        int k = options.DetachEvery;
        for (int n = 0; n < steps; n++)
        {
            int t = options.Reverse ? steps - 1 - n : n;
            bool crossesChunk = k > 0 && n > 0 && (options.Reverse ? (t + 1) % k == 0 : t % k == 0);
            if (crossesChunk) state = state.Detach();
            var input = projected?.Select(0, t) ?? cell.ProjectInput(x.Select(0, t));
            var next = cell.Step(input, state);
            var output = cell.Output(next);
            if (live?[t] is { } mask)
            {
                next = RecurrentState<T>.Where(mask, next, state);
                output = Tensor.Where(mask, output, zeros!);
            }
            if (options.RetainStateGradients) next.RetainGrad();
            outputs[t] = output;
            states[t] = next;
            state = next;
        }
        return new UnrollResult<T>(Tensor.Stack(0, outputs), state, states);
    }
}
