using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>The LRU's whole-sequence form (two real scans of the rotated state) equals stepping it: outputs and every gradient, in double.</summary>
public class LruParallelFormTests
{
    [Theory]
    [InlineData(1, 1, 0.0, 1.0)]
    [InlineData(9, 3, 0.0, 1.0)]
    [InlineData(1000, 2, 0.9, 0.999)] // four chunks of the scan kernel, |lambda| near 1, angles up to 2 pi * 1000
    public void ParallelFormEqualsSteppingInValuesAndGradients(int steps, int batch, double rMin, double rMax)
    {
        const int input = 2, hidden = 3;
        var cell = new LruCell<double>(input, hidden, new Rng(31), rMin, rMax);
        var layer = new RecurrentLayer<double>([[cell]]);
        var x = Tensor.RandomNormal<double>(new Rng(32), [steps, batch, input]).RequireGrad();
        var weights = Tensor.RandomNormal<double>(new Rng(33), [steps, batch, hidden]);
        var leaves = cell.Parameters.Select(p => p.Value).Append(x).ToArray();

        (double[] Output, double[][] Grads, IReadOnlyList<string> Ops) Run(Func<Tensor<double>> forward)
        {
            Tape.Current.Reset();
            var y = forward();
            var ops = Tape.Current.OperationNames();
            var grads = Autograd.Grad((y * weights).Sum(), leaves);
            return (y.ToArray(), grads.Select(g => g.ToArray()).ToArray(), ops);
        }

        var stepped = Run(() => layer.Forward(x).Output);
        var parallel = Run(() => cell.ParallelForward(x));
        Assert.Equal(2, parallel.Ops.Count(o => o == "Scan"));
        // The angles theta (t + 1) reach ~6000 at T = 1000: their sines carry ~1e-12 absolute error, hence 1e-10 there.
        double tolerance = steps > 100 ? 1e-10 : 1e-12;
        Approx.Equal(stepped.Output, parallel.Output, tolerance * (1 + stepped.Output.Max(Math.Abs)), "y");
        string[] names = [.. cell.Parameters.Select(p => p.Key), "x"];
        for (int i = 0; i < leaves.Length; i++)
            Approx.Equal(stepped.Grads[i], parallel.Grads[i], tolerance * (1 + stepped.Grads[i].Max(Math.Abs)), "d/d " + names[i]);
    }
}
