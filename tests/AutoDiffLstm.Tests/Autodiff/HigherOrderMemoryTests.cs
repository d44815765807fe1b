using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// The recorded backward of a per-step slice (Select/Narrow of the projected input) adds its cotangent as a slice, so
/// an HVP through an unrolled LSTM allocates in proportion to T. Padding each step's slice to the whole sequence made
/// it T^2: 28.7, 92 and 322 MB at T = 50, 100, 200 before; 9.4, 18.8 and 37.6 MB after (B = 4, H = 8).
/// </summary>
public class HigherOrderMemoryTests
{
    private static long HvpBytes(int steps)
    {
        var layer = RecurrentLayer.Lstm<double>(8, 8, new Rng(5));
        var x = Tensor.RandomNormal<double>(new Rng(6), [steps, 4, 8]);
        var cell = layer.Cell(0, 0);
        var w = cell.Parameters["weight_hh"];
        var v = Tensor.RandomNormal<double>(new Rng(7), [.. w.Shape]);
        Tensor<double> Loss(Tensor<double>[] p)
        {
            var swapped = cell.WithParameters(cell.NamedParameters().Select(kv => kv.Key == "weight_hh" ? new KeyValuePair<string, Tensor<double>>(kv.Key, p[0]) : kv));
            return new RecurrentLayer<double>([[swapped]]).Forward(x).Output.Tanh().Sum();
        }
        Autograd.Hvp(Loss, [w], [v]); // warm-up: traces, pools
        long before = GC.GetAllocatedBytesForCurrentThread();
        Autograd.Hvp(Loss, [w], [v]);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void AnHvpThroughAnUnrolledLstmAllocatesInProportionToTheLength()
    {
        var (shorter, longer) = (HvpBytes(100), HvpBytes(200));
        // Linear growth doubles the bytes; the quadratic padding measured 3.5x.
        Assert.True(longer < 2.4 * shorter, $"HVP allocated {shorter:N0} bytes at T = 100 and {longer:N0} at T = 200");
    }

    [Fact]
    public void AWeightUsedAtEveryStepGetsNoWeightSizedTensorPerStepInAnHvp()
    {
        // y_t = tanh(W y_{t-1}), W [256, 256] (512 KB), batch 1: the recorded backward's weight cotangent and its own
        // backward are kept as per-step factors (Cotangents.AddProduct), vectors of 2 KB, and joined by one product.
        // Forming W-sized outer products per step and summing them allocated 1-1.5 MB per step.
        const int n = 256;
        var w = Tensor.RandomNormal<double>(new Rng(8), [n, n], std: 1.0 / Math.Sqrt(n));
        var v = Tensor.RandomNormal<double>(new Rng(9), [n, n]);
        var y0 = Tensor.RandomNormal<double>(new Rng(10), [1, n]);
        long Bytes(int steps)
        {
            Tensor<double> Loss(Tensor<double>[] p)
            {
                var y = y0;
                for (int t = 0; t < steps; t++) y = y.Linear(p[0]).Tanh();
                return y.Sum();
            }
            Autograd.Hvp(Loss, [w], [v]);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Autograd.Hvp(Loss, [w], [v]);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        long perStep = (Bytes(64) - Bytes(32)) / 32;
        long weightBytes = n * n * sizeof(double);
        Assert.True(perStep < weightBytes / 2, $"an HVP allocated {perStep:N0} bytes per step; one weight is {weightBytes:N0}");
    }
}
