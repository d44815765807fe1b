using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// A cell whose state h is linear in itself: h_t = a_t * h_{t-1} + b_t, with a_t and b_t computed from x_t alone
/// (<see cref="Coefficients"/>). It steps like any cell, and it also has a parallel form: the coefficients of all T steps
/// at once (one product over T*B rows), then one <see cref="Tensor.Scan{T}"/> over time, with no T-step loop on the tape.
/// The unroll takes the parallel form when it can (<see cref="UnrollOptions{T}.ParallelForm"/>).
/// </summary>
/// <remarks>
/// The step computes a * h + b with the very operations the scan uses, so the two forms are bit-identical up to
/// <see cref="LinearScan.ChunkSteps"/> steps and agree to rounding beyond (the scan's carries between chunks).
/// </remarks>
public abstract class LinearRecurrentCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Sets up the description shared by all cells; the state is (h).</summary>
    protected LinearRecurrentCell(string kind, int inputSize, int hiddenSize, CellParameters<T> parameters)
        : base(kind, inputSize, hiddenSize, ["h"], parameters) { }

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>
    /// The coefficient a and the input b of the recurrence from projected inputs of any leading shape ([B, P] for one
    /// step, [T, B, P] for a whole sequence): both [..., H]. Must act on the last axis only.
    /// </summary>
    public abstract (Tensor<T> A, Tensor<T> B) Coefficients(Tensor<T> projected);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var (a, b) = Coefficients(projectedInput);
        return new RecurrentState<T>(StateNames, a * state[0] + b);
    }

    /// <summary>
    /// The whole forward pass by one scan: x [T, B, I] from <paramref name="initial"/>; at padded steps (mask 0) the
    /// coefficient is 1 and the input 0, so the state is carried, and the output is 0, as in the stepped pass.
    /// </summary>
    internal (Tensor<T> Output, Tensor<T> States) ScanForward(Tensor<T> x, RecurrentState<T> initial, Tensor<T>? mask)
    {
        int steps = x.Shape[0], batch = x.Shape[1];
        var projected = ProjectInput(x.Reshape(steps * batch, InputSize)).Reshape(steps, batch, -1);
        var (a, b) = Coefficients(projected);
        Tensor<T>? live = null;
        if (mask is not null)
        {
            live = mask.Reshape(steps, batch, 1);
            a = Tensor.Where(live, a, Tensor.Ones<T>(steps, batch, HiddenSize));
            b = Tensor.Where(live, b, Tensor.Zeros<T>(steps, batch, HiddenSize));
        }
        var h = Tensor.Scan(a, b, initial[0]);
        return (live is null ? h : Tensor.Where(live, h, Tensor.Zeros<T>(steps, batch, HiddenSize)), h);
    }
}
