using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// Base of the first-order optimizers: holds the parameter list, the learning rate (settable, for schedules) and a
/// per-parameter step count. <see cref="Step"/> updates every parameter that has a gradient, in place; parameters whose
/// <see cref="Tensor{T}.Grad"/> is null are skipped and their state (moments, step count) is left as it was, as in
/// PyTorch. State buffers are allocated once, in the constructor, so a step allocates nothing.
/// </summary>
/// <typeparam name="T"><c>float</c> or <c>double</c>; state and arithmetic use the parameters' element type.</typeparam>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] parameters;
    private readonly int[] stepCounts;
    private readonly List<T[][]> stateBuffers = [];
    private double learningRate;

    /// <param name="name">The optimizer's name, used in error messages.</param>
    /// <param name="parameters">The tensors to update; each must appear once.</param>
    /// <param name="learningRate">Initial learning rate, finite and >= 0.</param>
    protected Optimizer(string name, IReadOnlyList<Tensor<T>> parameters, double learningRate)
    {
        Name = name;
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = new Tensor<T>[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw new ArgumentException($"{name}: parameter {i} is null.", nameof(parameters));
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(this.parameters[j], p))
                    throw new ArgumentException($"{name}: the tensor of shape {p.ShapeText} is listed twice (parameters {j} and {i}); it would be updated twice per step.", nameof(parameters));
            this.parameters[i] = p;
        }
        stepCounts = new int[this.parameters.Length];
        LearningRate = learningRate;
    }

    /// <summary>The optimizer's name (e.g. "Adam").</summary>
    public string Name { get; }

    /// <summary>The parameters, in the order given to the constructor.</summary>
    public IReadOnlyList<Tensor<T>> Parameters => parameters;

    /// <summary>The learning rate used by the next <see cref="Step"/>; set it from a schedule between steps.</summary>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            if (!double.IsFinite(value) || value < 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"{Name}: the learning rate must be finite and >= 0, got {value}.");
            learningRate = value;
        }
    }

    /// <summary>How many times <see cref="Step"/> has been called.</summary>
    public int StepsTaken { get; private set; }

    /// <summary>How many updates parameter <paramref name="index"/> has received (steps where its gradient was present).</summary>
    public int StepCount(int index) => stepCounts[index];

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        // Check every gradient first so that a bad one leaves all parameters and state as they were.
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.Grad is { } g && g.Size != p.Size)
                throw new InvalidOperationException($"{Name}.Step: parameter {i} has shape {p.ShapeText} but its gradient has shape {g.ShapeText}; they must have the same number of elements.");
        }
        StepsTaken++;
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            var g = p.Grad;
            if (g is null) continue;
            stepCounts[i]++;
            Update(i, stepCounts[i], p.Data, g.Data);
        }
    }

    /// <summary>
    /// Clears the gradients. By default they are set to null (PyTorch's <c>set_to_none=True</c>), so a parameter that
    /// takes no part in the next backward pass is skipped by the next step; with <paramref name="setToNull"/> false
    /// the existing buffers are zero-filled instead, which keeps them allocated (such parameters are then updated with
    /// a zero gradient: momentum and weight decay still move them).
    /// </summary>
    public void ZeroGrad(bool setToNull = true)
    {
        foreach (var p in parameters)
        {
            if (setToNull) p.Grad = null;
            else p.Grad?.Data.AsSpan().Clear();
        }
    }

    /// <summary>Updates one parameter in place. <paramref name="step"/> is this parameter's update count, starting at 1.</summary>
    protected abstract void Update(int index, int step, Span<T> parameter, ReadOnlySpan<T> gradient);

    /// <summary>One zero-initialised buffer per parameter, the same size as the parameter.</summary>
    protected T[][] AllocateState()
    {
        var state = new T[parameters.Length][];
        for (int i = 0; i < state.Length; i++) state[i] = new T[parameters[i].Size];
        stateBuffers.Add(state);
        return state;
    }

    /// <summary>
    /// The optimizer's state buffers as tensors that SHARE their storage (writing into them restores the state), named
    /// "state{k}.{i}" for buffer kind k (in allocation order, e.g. Adam's first then second moment) of parameter i,
    /// each shaped like its parameter. Used by checkpoints.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Tensor<T>>> StateTensors()
    {
        var result = new List<KeyValuePair<string, Tensor<T>>>();
        for (int k = 0; k < stateBuffers.Count; k++)
            for (int i = 0; i < parameters.Length; i++)
                result.Add(new($"state{k}.{i}", new Tensor<T>(parameters[i].Dims, stateBuffers[k][i])));
        return result;
    }

    /// <summary>The per-parameter update counts followed by <see cref="StepsTaken"/>, as a vector (exact in float up to 2^24 steps).</summary>
    public Tensor<T> StepCountsTensor()
    {
        var t = Tensor.Zeros<T>(parameters.Length + 1);
        for (int i = 0; i < stepCounts.Length; i++) t.Data[i] = T.CreateChecked(stepCounts[i]);
        t.Data[^1] = T.CreateChecked(StepsTaken);
        return t;
    }

    /// <summary>Restores the counts saved by <see cref="StepCountsTensor"/>.</summary>
    public void SetStepCounts(Tensor<T> counts)
    {
        if (counts.Rank != 1 || counts.Size != parameters.Length + 1)
            throw new ArgumentException($"{Name}.SetStepCounts: expected a vector of {parameters.Length + 1} counts, got shape {counts.ShapeText}.");
        for (int i = 0; i < stepCounts.Length; i++) stepCounts[i] = int.CreateChecked(counts.Data[i]);
        StepsTaken = int.CreateChecked(counts.Data[^1]);
    }

    /// <summary>A hyperparameter as the element type.</summary>
    protected static T Cast(double value) => T.CreateTruncating(value);

    /// <summary>Throws unless <paramref name="value"/> is finite and >= 0.</summary>
    protected void RequireNonNegative(double value, string what)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(what, value, $"{Name}: {what} must be finite and >= 0, got {value}.");
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1).</summary>
    protected void RequireUnitInterval(double value, string what)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentOutOfRangeException(what, value, $"{Name}: {what} must be in [0, 1), got {value}.");
    }
}
