using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>mLSTM's parallel (attention-like) form equals stepping the cell: outputs and every gradient, in double.</summary>
public class MlstmParallelFormTests
{
    [Theory]
    [InlineData(1, 1, 1.0)]
    [InlineData(7, 3, 1.0)]
    [InlineData(60, 2, 4.0)] // large inputs: gates far apart, so the stabilisers are far from 0 and differ between the forms
    public void ParallelFormEqualsSteppingInValuesAndGradients(int steps, int batch, double inputScale)
    {
        const int input = 3, hidden = 4;
        var cell = new MlstmCell<double>(input, hidden, new Rng(21));
        var layer = new RecurrentLayer<double>([[cell]]);
        var x = Tensor.RandomNormal<double>(new Rng(22), [steps, batch, input], std: inputScale).RequireGrad();
        var weights = Tensor.RandomNormal<double>(new Rng(23), [steps, batch, hidden]);
        var leaves = cell.Parameters.Select(p => p.Value).Append(x).ToArray();

        (double[] Output, double[][] Grads) Run(Func<Tensor<double>> forward)
        {
            Tape.Current.Reset();
            var y = forward();
            var grads = Autograd.Grad((y * weights).Sum(), leaves);
            return (y.ToArray(), grads.Select(g => g.ToArray()).ToArray());
        }

        var stepped = Run(() => layer.Forward(x).Output);
        var parallel = Run(() => cell.ParallelForward(x));
        double scale = 1 + stepped.Output.Max(Math.Abs);
        Approx.Equal(stepped.Output, parallel.Output, 1e-12 * scale, "h");
        string[] names = [.. cell.Parameters.Select(p => p.Key), "x"];
        for (int i = 0; i < leaves.Length; i++)
            Approx.Equal(stepped.Grads[i], parallel.Grads[i], 1e-11 * (1 + stepped.Grads[i].Max(Math.Abs)), "d/d " + names[i]);
        Assert.Contains(stepped.Grads[0], g => g != 0);
    }

    [Fact]
    public void AnInputOfTheWrongShapeIsAClearError()
    {
        var cell = new MlstmCell<double>(3, 4, new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => cell.ParallelForward(Tensor.Zeros<double>(5, 2, 2)));
        Assert.Contains("expected [T, B, 3]", e.Message);
    }
}
