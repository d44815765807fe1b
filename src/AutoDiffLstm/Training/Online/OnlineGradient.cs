using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Training.Online;

/// <summary>
/// Forward-in-time gradients of a recurrent cell: the state s_t = F(x_t, s_{t-1}, θ) is advanced one step at a time
/// together with (an estimate of) its sensitivity S_t = ds_t/dθ, and a loss ℓ_t on the step's output contributes
/// dℓ_t/dθ = (∂ℓ_t/∂s_t) S_t at once, with no stored history: the online alternative to backpropagation through time.
/// Subclasses carry S_t exactly (<see cref="Rtrl{T}"/>) or as a rank-one unbiased estimate (<see cref="Uoro{T}"/>).
/// </summary>
/// <remarks>
/// The contributions are accumulated into the <see cref="Tensor{T}.Grad"/> of the cell's own parameters, so any
/// <see cref="Optimizer{T}"/> over <c>cell.NamedParameters()</c> can update after every step. Tensors the loss function
/// reads besides the output (a read-out layer) get their ordinary gradient by backpropagation within the step. The
/// parameters may change between steps (online training); S_t then mixes Jacobians taken at successive θ, the usual
/// online approximation of Williams and Zipser (1989).
/// </remarks>
public abstract class OnlineGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly string name;

    /// <summary>Starts from the zero state with zero sensitivity for sequences of <paramref name="batchSize"/> rows.</summary>
    protected OnlineGradient(string name, RecurrentCell<T> cell, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(cell);
        this.name = name;
        Cell = cell;
        State = cell.InitialState(batchSize);
        BatchSize = batchSize;
        ParameterSizes = cell.NamedParameters().Select(p => p.Value.Size).ToArray();
        StateSizes = Enumerable.Range(0, cell.StateNames.Count).Select(i => batchSize * cell.StateSize(i)).ToArray();
    }

    /// <summary>The cell whose parameters receive the gradients.</summary>
    public RecurrentCell<T> Cell { get; }

    /// <summary>Rows per step.</summary>
    public int BatchSize { get; }

    /// <summary>The state after the last step (values only, not on any tape).</summary>
    public RecurrentState<T> State { get; private set; }

    /// <summary>Number of steps taken since construction or <see cref="Reset"/>.</summary>
    public int StepsTaken { get; private set; }

    /// <summary>Elements of each parameter tensor, in the cell's order.</summary>
    protected int[] ParameterSizes { get; }

    /// <summary>Elements of each state tensor over the whole batch (B * size).</summary>
    protected int[] StateSizes { get; }

    /// <summary>Total number of scalar parameters P.</summary>
    public int ParameterCount => ParameterSizes.Sum();

    /// <summary>Total number of state scalars over the batch (B times the sum of state sizes).</summary>
    public int StateCount => StateSizes.Sum();

    /// <summary>How many numbers the method keeps between steps for its sensitivity (P * state for RTRL, P + state for UORO).</summary>
    public abstract long SensitivityElements { get; }

    /// <summary>
    /// Advances one step on x_t ([B, I]). With <paramref name="loss"/> (the step's output h_t [B, H] -> a scalar),
    /// adds dℓ_t/dθ to the cell parameters' gradients and returns ℓ_t; without, returns 0 and only carries the state
    /// and the sensitivity forward.
    /// </summary>
    public double Step(Tensor<T> x, Func<Tensor<T>, Tensor<T>>? loss = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        using (var step = new RecordedStep<T>($"{name}.Step", Cell, x, State))
        {
            Advance(step);
            State = step.Next.Map(s => s.Clone());
        }
        StepsTaken++;
        if (loss is null) return 0;
        var (value, dState) = LossGradient(loss);
        var gradient = Estimate(dState);
        var parameters = Cell.NamedParameters();
        for (int j = 0; j < gradient.Length; j++) parameters[j].Value.GradSink().Add(gradient[j]);
        return value;
    }

    /// <summary>Back to the zero state and zero sensitivity (a new sequence).</summary>
    public void Reset()
    {
        State = Cell.InitialState(BatchSize);
        StepsTaken = 0;
        ResetSensitivity();
    }

    /// <summary>Carries the sensitivity from s_{t-1} to s_t through the recorded step.</summary>
    private protected abstract void Advance(RecordedStep<T> step);

    /// <summary>dℓ_t/dθ from ∂ℓ_t/∂s_t (one flat array per state tensor): one array per parameter tensor.</summary>
    private protected abstract T[][] Estimate(T[][] lossStateGradient);

    /// <summary>Forgets the sensitivity (S = 0).</summary>
    private protected abstract void ResetSensitivity();

    /// <summary>ℓ_t and ∂ℓ_t/∂s_t for every state tensor, by one backward pass on a private tape.</summary>
    private (double Value, T[][] Gradient) LossGradient(Func<Tensor<T>, Tensor<T>> loss)
    {
        using var scope = Tape.UsePrivateTape();
        var leaves = State.Map(s => s.Detach().RequireGrad());
        var value = loss(Cell.Output(leaves));
        if (value.Size != 1)
            throw new ArgumentException($"{name}.Step: the loss must return a scalar, got shape {value.ShapeText}.");
        double v = value.ItemAsDouble();
        if (value.RequiresGrad && !value.IsLeaf) value.Backward();
        else Tape.Current.Reset();
        return (v, leaves.Tensors.Select((s, i) => s.Grad?.ToArray() ?? new T[StateSizes[i]]).ToArray());
    }

    /// <summary>Σ a_i b_i over two flat arrays.</summary>
    private protected static T Dot(ReadOnlySpan<T> a, ReadOnlySpan<T> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
