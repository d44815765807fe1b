using System.Numerics;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// A training iteration of <see cref="OurRecurrentModel{T}"/> on random data of one workload's shape, as a training
/// loop runs it: under <see cref="Tape.ReuseBuffers"/> (forward values are recycled at the reset that ends backward,
/// so steady-state iterations allocate almost nothing), with gradients zeroed in place as the TorchSharp steps do.
/// </summary>
internal sealed class OurTrainingStep<T> : IMeasurableStep where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly OurRecurrentModel<T> model;
    private readonly Tensor<T> x, h0;
    private readonly Tensor<T>? c0;
    private readonly Tensor<T>[] leaves;

    private readonly int checkpointEvery;
    private readonly bool compile;

    public OurTrainingStep(CellKind kind, WorkloadShape shape, int seed, int checkpointEvery = 0, bool compile = true, bool customCell = false)
    {
        this.checkpointEvery = checkpointEvery;
        this.compile = compile;
        var rng = new Rng((ulong)seed);
        model = new OurRecurrentModel<T>(kind, shape.Input, shape.Hidden, rng, customCell);
        x = Tensor.RandomNormal<T>(rng, [shape.Steps, shape.Batch, shape.Input]).RequireGrad();
        h0 = Tensor.RandomNormal<T>(rng, [shape.Batch, shape.Hidden], std: 0.1).RequireGrad();
        c0 = kind == CellKind.Lstm ? Tensor.RandomNormal<T>(rng, [shape.Batch, shape.Hidden], std: 0.1).RequireGrad() : null;
        leaves = [.. model.Parameters, x, h0, .. c0 is null ? Array.Empty<Tensor<T>>() : [c0]];
    }

    public double Run() => Iterate(out _, measure: false);

    /// <summary>One iteration, reporting the bytes of forward values the tape kept for backward when forward ended.</summary>
    public long RunReportingActivations()
    {
        Iterate(out long kept, measure: true);
        return kept;
    }

    /// <summary>Bytes of the gradients of the weights, the inputs and the initial state (never pooled).</summary>
    public long LeafGradientBytes => leaves.Sum(l => l.Grad is null ? 0L : (long)l.Grad.Size * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());

    private double Iterate(out long activationBytes, bool measure)
    {
        using var reuse = Tape.ReuseBuffers();
        // In place, like TorchInputs.ZeroGrads: ZeroGrad() (null) would make backward allocate fresh gradients, and
        // dL/dx alone is a large-object-heap array at W1-W3.
        foreach (var leaf in leaves) leaf.Grad?.AsWritableSpan().Clear();
        var loss = model.Forward(x, h0, c0, checkpointEvery, compile).Sum();
        activationBytes = measure ? Tape.Current.ActivationBytes() : 0;
        loss.Backward();
        return loss.ItemAsDouble(); // valid after the reset: the tensor Backward started from keeps its storage
    }

    public void Dispose() { }
}

internal static class OurTrainingStep
{
    /// <summary>The step in the workload's element type (float or double).</summary>
    public static ITrainingStep Create(CellKind kind, Workload workload, int seed = 1, bool compile = true, bool customCell = false) =>
        CreateMeasurable(kind, workload, seed, compile: compile, customCell: customCell);

    /// <summary>The step with its memory probes (<see cref="IMeasurableStep"/>), optionally checkpointing every k steps.</summary>
    public static IMeasurableStep CreateMeasurable(CellKind kind, Workload workload, int seed = 1, int checkpointEvery = 0, bool compile = true, bool customCell = false)
    {
        var shape = WorkloadShape.Of(workload);
        return shape.IsDouble
            ? new OurTrainingStep<double>(kind, shape, seed, checkpointEvery, compile, customCell)
            : new OurTrainingStep<float>(kind, shape, seed, checkpointEvery, compile, customCell);
    }
}

/// <summary>A training step of ours that can also say what memory an iteration keeps (see <see cref="MemoryReport"/>).</summary>
internal interface IMeasurableStep : ITrainingStep
{
    /// <summary>One iteration, returning the bytes of forward values the tape kept for backward.</summary>
    long RunReportingActivations();

    /// <summary>Bytes of the gradients of the weights, the inputs and the initial state.</summary>
    long LeafGradientBytes { get; }
}
