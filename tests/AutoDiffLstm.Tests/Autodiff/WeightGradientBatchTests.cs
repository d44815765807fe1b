using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tests.Kernels;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// Backward gathers the weight gradients of few-row products (a recurrence's per-step products at batch 1-4) and runs
/// one deep product per weight at the end of the pass, or whenever a weight's stack of rows is full. These check the
/// sums against per-step sums written out in double, a stack that overflows mid-pass, a computed (non-leaf) weight,
/// a pass that fails half-way, and the bits on one and two threads.
/// </summary>
public class WeightGradientBatchTests
{
    /// <summary>dW = sum_t dy_t^T x_t and dx_t = dy_t W for y_t = x_t W^T with L = sum_t sum(v_t * y_t), written out.</summary>
    private static (double[] DW, double[][] DX) ByHand(double[] w, int outF, int inF, double[][] xs, double[][] vs)
    {
        var dw = new double[outF * inF];
        var dx = new double[xs.Length][];
        for (int t = 0; t < xs.Length; t++)
        {
            int rows = xs[t].Length / inF;
            dx[t] = new double[rows * inF];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outF; o++)
                    for (int i = 0; i < inF; i++)
                    {
                        dw[o * inF + i] += vs[t][r * outF + o] * xs[t][r * inF + i];
                        dx[t][r * inF + i] += vs[t][r * outF + o] * w[o * inF + i];
                    }
        }
        return (dw, dx);
    }

    private static double[][] Random(Rng rng, int count, int size) =>
        Enumerable.Range(0, count).Select(_ => Tensor.RandomNormal<double>(rng, [size]).ToArray()).ToArray();

    /// <summary>Steps of <paramref name="rows"/> rows through one weight; returns the engine's dW and dx_t.</summary>
    private static (double[]? DW, double[][] DX) ThroughTheEngine(Tensor<double> w, double[][] xs, double[][] vs, int rows)
    {
        int outF = w.Shape[0], inF = w.Shape[1];
        var inputs = xs.Select(x => Tensor.FromArray(x, rows, inF).RequireGrad()).ToArray();
        Tensor<double>? loss = null;
        for (int t = 0; t < xs.Length; t++)
        {
            var term = (inputs[t].Linear(w) * Tensor.FromArray(vs[t], rows, outF)).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.Backward();
        return (w.Grad?.ToArray(), inputs.Select(x => x.Grad!.ToArray()).ToArray());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 30)]
    [InlineData(WeightGradientBatch.MaxRows, 12)]
    [InlineData(WeightGradientBatch.MaxRows + 1, 5)] // too many rows to batch: the product runs at once, as before
    public void GatheredWeightGradientsEqualThePerStepSums(int rows, int steps)
    {
        var rng = new Rng(11);
        const int outF = 12, inF = 7;
        var w = Tensor.RandomNormal<double>(rng, [outF, inF]).RequireGrad();
        var (xs, vs) = (Random(rng, steps, rows * inF), Random(rng, steps, rows * outF));
        var (dw, dx) = ThroughTheEngine(w, xs, vs, rows);
        var (expectedW, expectedX) = ByHand(w.ToArray(), outF, inF, xs, vs);
        Approx.Equal(expectedW, dw!, 1e-12, "dW");
        for (int t = 0; t < steps; t++) Approx.Equal(expectedX[t], dx[t], 1e-12, $"dx_{t}");
    }

    [Fact]
    public void AStackThatFillsUpMidPassRunsAndStartsAgain()
    {
        // (outF + inF) * 8 bytes per row: a stack of StackBytes holds only a few rows of this weight.
        const int outF = 1 << 16, inF = 3;
        int capacity = Math.Max(WeightGradientBatch.MaxRows, WeightGradientBatch.StackBytes / ((outF + inF) * sizeof(double)));
        int steps = 2 * capacity + 3;
        Assert.True(capacity < steps / 2, $"capacity {capacity} rows: the stack would never fill");
        var rng = new Rng(12);
        var w = Tensor.RandomNormal<double>(rng, [outF, inF]).RequireGrad();
        var (xs, vs) = (Random(rng, steps, inF), Random(rng, steps, outF));
        var (dw, _) = ThroughTheEngine(w, xs, vs, rows: 1);
        Approx.Equal(ByHand(w.ToArray(), outF, inF, xs, vs).DW, dw!, 1e-12, "dW");
    }

    [Fact]
    public void AStackKeepsOnlyAboutTheRowsItsPassesUsed()
    {
        // A full stack of this weight would hold StackBytes (4 MB): 27,594 rows. Thirty steps of one row need 64.
        Tape.ClearBufferPool();
        const int outF = 12, inF = 7, steps = 30;
        var rng = new Rng(15);
        var w = Tensor.RandomNormal<double>(rng, [outF, inF]).RequireGrad();
        var (xs, vs) = (Random(rng, steps, inF), Random(rng, steps, outF));
        var (dw, _) = ThroughTheEngine(w, xs, vs, rows: 1);
        Approx.Equal(ByHand(w.ToArray(), outF, inF, xs, vs).DW, dw!, 1e-12, "dW");
        long bytes = WeightGradientBatch.RetainedBytes;
        Assert.Equal(64L * (outF + inF) * sizeof(double), bytes);
        // A longer pass grows the stack it finds (doubling), and a pass of the same length again allocates nothing more.
        (xs, vs) = (Random(rng, 3 * steps, inF), Random(rng, 3 * steps, outF));
        w.ZeroGrad();
        ThroughTheEngine(w, xs, vs, rows: 1);
        Assert.Equal(128L * (outF + inF) * sizeof(double), WeightGradientBatch.RetainedBytes);
        w.ZeroGrad();
        ThroughTheEngine(w, xs, vs, rows: 1);
        Assert.Equal(128L * (outF + inF) * sizeof(double), WeightGradientBatch.RetainedBytes);
        Tape.ClearBufferPool();
        Assert.Equal(0, WeightGradientBatch.RetainedBytes);
    }

    [Fact]
    public void AComputedWeightIsNotBatchedItsProducerSeesItsWholeGradient()
    {
        // w = 3 w0 is an intermediate: its gradient must be complete when Multiply's rule runs, before backward ends.
        var rng = new Rng(13);
        var w0 = Tensor.RandomNormal<double>(rng, [5, 4]).RequireGrad();
        var w = w0 * 3.0;
        var (xs, vs) = (Random(rng, 6, 4), Random(rng, 6, 5));
        ThroughTheEngine(w, xs, vs, rows: 1);
        var expected = ByHand(w.ToArray(), 5, 4, xs, vs).DW.Select(v => 3 * v).ToArray();
        Approx.Equal(expected, w0.Grad!.ToArray(), 1e-12, "dW0");
    }

    [Fact]
    public void APassThatFailsHalfWayLeavesNoRowsForTheNextPass()
    {
        var rng = new Rng(14);
        var w = Tensor.RandomNormal<double>(rng, [6, 3]).RequireGrad();
        var x = Tensor.RandomNormal<double>(rng, [1, 3]).RequireGrad();
        // Backward reaches the Linear (its rows are stacked), then Log's rule meets log(0) and anomaly mode throws.
        var zeroThenX = Tensor.Concat(1, Tensor.Zeros<double>(1, 1), x);
        Assert.Throws<AnomalyException>(() =>
        {
            using var anomaly = Autograd.DetectAnomaly();
            (zeroThenX.Log().Sum() + x.Linear(w).Sum()).Backward();
        });
        Assert.Null(w.Grad); // the stacked rows were dropped, not added
        var (xs, vs) = (Random(rng, 3, 3), Random(rng, 3, 6));
        var (dw, _) = ThroughTheEngine(w, xs, vs, rows: 1);
        Approx.Equal(ByHand(w.ToArray(), 6, 3, xs, vs).DW, dw!, 1e-12, "dW of the next pass");
    }
}

/// <summary>The gathered products split over threads: the single-threaded bits.</summary>
[Collection(GemmThreadsCollection.Name)]
public class WeightGradientBatchThreadingTests
{
    [Fact]
    public void GatheredProductsGiveTheSameBitsOnOneAndTwoThreads()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            double[][] Grads(int threads)
            {
                Parallelism.MaxThreads = threads;
                var rng = new Rng(16);
                var layer = RecurrentLayer.Lstm<float>(64, 256, rng);
                var x = Tensor.RandomNormal<float>(rng, [40, 1, 64]);
                layer.Forward(x).Output.Sum().Backward();
                return layer.NamedParameters().Select(p => p.Value.Grad!.ToArray().Select(v => (double)v).ToArray()).ToArray();
            }
            Assert.Equal(Grads(1), Grads(2));
        }
        finally { Parallelism.MaxThreads = saved; }
    }
}
