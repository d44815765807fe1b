using System.Numerics;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// The floor of a training iteration, measured: exactly the matrix products an LSTM iteration of the workload runs
/// (the hoisted input projection, one recurrent product per step, and for backward dL/dx, dL/dW_ih, per step dL/dh, and
/// dL/dW_hh over batches of steps as the compiled pass arranges it), through our Gemm on preallocated buffers, with
/// nothing else. Our LSTM's time over this one is the fraction of the floor it reaches.
/// </summary>
internal sealed class ProductsOnlyStep<T> : ITrainingStep where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly WorkloadShape s;
    private readonly T[] x, wih, whh, projected, h, gates, dx, dwih, dwhh, dgates, dh;

    public ProductsOnlyStep(WorkloadShape shape)
    {
        s = shape;
        int rows = s.Steps * s.Batch, g = 4 * s.Hidden;
        var rng = new Rng(1);
        T[] Random(int n) => Tensor.RandomNormal<T>(rng, [n], std: 0.1).ToArray();
        (x, wih, whh) = (Random(rows * s.Input), Random(g * s.Input), Random(g * s.Hidden));
        (projected, h, gates, dgates) = (new T[rows * g], Random(rows * s.Hidden), new T[s.Batch * g], Random(rows * g));
        (dx, dwih, dwhh, dh) = (new T[rows * s.Input], new T[g * s.Input], new T[g * s.Hidden], new T[s.Batch * s.Hidden]);
    }

    public double Run()
    {
        int rows = s.Steps * s.Batch, g = 4 * s.Hidden, bh = s.Batch * s.Hidden, bg = s.Batch * g;
        using var packed = PackedOperands.Open(); // the weights packed once per pass, as the layer does
        // Forward: X W_ih^T for all steps, then h_{t-1} W_hh^T per step.
        Gemm.Run(x, 0, false, wih, 0, true, projected, 0, rows, g, s.Input, accumulate: false, constantB: true);
        for (int t = 0; t < s.Steps; t++) Gemm.Run(h, t * bh, false, whh, 0, true, gates, 0, s.Batch, g, s.Hidden, accumulate: false, constantB: true);
        // Backward per step: dh_{t-1} = dgates_t W_hh; and dW_hh += dgates^T h over a batch of steps' rows at a time, as
        // the compiled pass computes it (about 256 rows per product: at W3, B = 8, one product per step took twice as long).
        int batchSteps = Math.Clamp(256 / s.Batch, 1, s.Steps);
        for (int t = s.Steps - 1; t >= 0; t--)
        {
            Gemm.Run(dgates, t * bg, false, whh, 0, false, dh, 0, s.Batch, s.Hidden, g, accumulate: false, constantB: true);
            int count = (s.Steps - t) % batchSteps == 0 ? batchSteps : t == 0 ? (s.Steps - t) % batchSteps : 0;   // steps [t, t + count)
            if (count == 0) continue;
            Gemm.Run(dgates, t * bg, true, h, t * bh, false, dwhh, 0, g, s.Hidden, count * s.Batch, accumulate: t + count < s.Steps, constantB: false);
        }
        // Backward of the projection: dX = dgates W_ih, dW_ih = dgates^T X.
        Gemm.Run(dgates, 0, false, wih, 0, false, dx, 0, rows, s.Input, g, accumulate: false, constantB: true);
        Gemm.Run(dgates, 0, true, x, 0, false, dwih, 0, g, s.Input, rows, accumulate: false, constantB: false);
        return double.CreateTruncating(dwih[0]);
    }

    public void Dispose() { }
}

internal static class ProductsOnlyStep
{
    public static ITrainingStep Create(Workload workload)
    {
        var shape = WorkloadShape.Of(workload);
        return shape.IsDouble ? new ProductsOnlyStep<double>(shape) : new ProductsOnlyStep<float>(shape);
    }
}
