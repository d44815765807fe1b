using System.Numerics;

namespace AutoDiffLstm.Benchmarks;

/// <summary>A training iteration of <see cref="OurRecurrentModel{T}"/> on random data of one workload's shape.</summary>
internal sealed class OurTrainingStep<T> : ITrainingStep where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly OurRecurrentModel<T> model;
    private readonly Tensor<T> x, h0;
    private readonly Tensor<T>? c0;
    private readonly Tensor<T>[] leaves;

    public OurTrainingStep(CellKind kind, WorkloadShape shape, int seed)
    {
        var rng = new Rng((ulong)seed);
        model = new OurRecurrentModel<T>(kind, shape.Input, shape.Hidden, rng);
        x = Tensor.RandomNormal<T>(rng, [shape.Steps, shape.Batch, shape.Input]).RequireGrad();
        h0 = Tensor.RandomNormal<T>(rng, [shape.Batch, shape.Hidden], std: 0.1).RequireGrad();
        c0 = kind == CellKind.Lstm ? Tensor.RandomNormal<T>(rng, [shape.Batch, shape.Hidden], std: 0.1).RequireGrad() : null;
        leaves = [.. model.Parameters, x, h0, .. c0 is null ? Array.Empty<Tensor<T>>() : [c0]];
    }

    public double Run()
    {
        foreach (var leaf in leaves) leaf.ZeroGrad();
        var loss = model.Forward(x, h0, c0).Sum();
        loss.Backward();
        return loss.ItemAsDouble();
    }

    public void Dispose() { }
}

internal static class OurTrainingStep
{
    /// <summary>The step in the workload's element type (float or double).</summary>
    public static ITrainingStep Create(CellKind kind, Workload workload, int seed = 1)
    {
        var shape = WorkloadShape.Of(workload);
        return shape.IsDouble ? new OurTrainingStep<double>(kind, shape, seed) : new OurTrainingStep<float>(kind, shape, seed);
    }
}
