using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training;
using AutoDiffLstm.Training.Online;

namespace AutoDiffLstm.Tests.Training.Online;

/// <summary>Exact RTRL: its accumulated gradient is BPTT's for every built-in cell, it trains online, and it refuses what it cannot carry.</summary>
public class RtrlTests
{
    public static TheoryData<string> BuiltInCells()
    {
        var data = new TheoryData<string>();
        foreach (var info in CellRegistry.All.Where(i => i.BuiltIn)) data.Add(info.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(BuiltInCells))]
    public void AccumulatedGradientEqualsBpttForEveryBuiltInCell(string cell)
    {
        var problem = new OnlineGradientCase(cell, steps: 5, batch: 2, input: 2, hidden: 3, seed: 11);
        var bptt = problem.BpttGradient();
        var rtrl = problem.OnlineGradient(new Rtrl<double>(problem.Cell, batchSize: 2));
        double scale = Math.Max(1, bptt.Max(Math.Abs));
        Assert.True(bptt.Any(v => Math.Abs(v) > 1e-3), $"{cell}: the reference gradient is (nearly) zero, the comparison would be empty.");
        for (int k = 0; k < bptt.Length; k++)
            Assert.True(Math.Abs(rtrl[k] - bptt[k]) <= 1e-10 * scale, $"{cell}: parameter scalar {k}: RTRL {rtrl[k]:R} vs BPTT {bptt[k]:R}.");
    }

    [Fact]
    public void SensitivityIsTheJacobianOfTheStateWithRespectToTheParameters()
    {
        // After two steps of a tanh RNN, S must equal d h_2/dθ, computed here by differentiating the unrolled map.
        var cell = CellRegistry.Create<double>("rnn", 2, 3, new Rng(3));
        var x = Tensor.RandomNormal<double>(new Rng(4), [2, 1, 2]);
        var rtrl = new Rtrl<double>(cell);
        rtrl.Step(x.Select(0, 0));
        rtrl.Step(x.Select(0, 1));
        var s = rtrl.Sensitivity();
        var names = cell.Parameters.Names;
        int offset = 0;
        foreach (var (name, value) in cell.NamedParameters())
        {
            var jac = Autograd.Jacobian(p =>
            {
                var c = cell.WithParameters(cell.NamedParameters().Select(q => q.Key == name ? new KeyValuePair<string, Tensor<double>>(name, p) : q));
                var st = c.Next(x.Select(0, 0), c.InitialState(1));
                return c.Next(x.Select(0, 1), st)[0];
            }, value);
            for (int r = 0; r < 3; r++)
                for (int e = 0; e < value.Size; e++)
                    Assert.Equal(jac.AsSpan()[r * value.Size + e], s[r, offset + e], 12);
            offset += value.Size;
        }
        Assert.Equal(s.Shape[1], offset);
        Assert.Equal(4, names.Count);
    }

    [Fact]
    public void OnlineTrainingWithAnUpdateEveryStepLowersTheLoss()
    {
        // Predict the previous input from the hidden state: a one-step memory task that needs the recurrence.
        var cell = CellRegistry.Create<double>("rnn", 1, 4, new Rng(5));
        var readout = Tensor.RandomNormal<double>(new Rng(6), [1, 4], 0, 0.1).RequireGrad();
        var parameters = cell.NamedParameters().Select(p => p.Value).Append(readout).ToArray();
        var optimizer = new Adam<double>(parameters, 0.02);
        var rtrl = new Rtrl<double>(cell);
        var rng = new Rng(7);
        double previous = 0;
        var losses = new List<double>();
        for (int t = 0; t < 600; t++)
        {
            double now = rng.NextDouble() < 0.5 ? -1 : 1;
            double target = previous;
            losses.Add(rtrl.Step(Tensor.FromArray(new[] { now }, 1, 1), h => (h.Linear(readout) - Tensor.FromArray(new[] { target }, 1, 1)).Square().Sum()));
            optimizer.Step();
            foreach (var p in parameters) p.ZeroGrad();
            previous = now;
        }
        // The target is independent of the current input, so without memory no predictor beats a mean loss of 1.
        double early = losses.Take(10).Average(), late = losses.Skip(500).Average();
        Assert.True(early > 0.5, $"the task should start hard (mean loss {early:F3} over the first 10 steps)");
        Assert.True(late < 0.1, $"online RTRL should learn the one-step memory (memoryless floor 1): mean loss {early:F3} over the first 10 steps, {late:F3} over the last 100.");
    }

    [Fact]
    public void AStepThroughAnOperationWithoutForwardModeIsRefusedClearly()
    {
        var noJvp = new CustomPrimitive<double>("reverse_only_tanh", xs => xs[0].Map(Math.Tanh),
            (xs, y, dy) => [dy * (1 - y.Square())]);
        var cell = new CustomCell<double>("no-jvp", 1, 2, ["h"], new Dictionary<string, int[]> { ["weight_hh"] = [2, 2] },
            (x, s, p) => [noJvp.Apply(s["h"].Linear(p["weight_hh"]) + x.Sum(-1, keepDim: true))], new Rng(1));
        var rtrl = new Rtrl<double>(cell);
        var e = Assert.Throws<NotSupportedException>(() => rtrl.Step(Tensor.Ones<double>(1, 1)));
        Assert.Contains("Rtrl.Step", e.Message);
        Assert.Contains("forward-mode", e.Message);
        Assert.Contains("reverse_only_tanh", e.Message);
    }

    [Fact]
    public void ABadLossOrInputIsRefusedWithItsShape()
    {
        var cell = CellRegistry.Create<double>("gru", 2, 3, new Rng(1));
        var rtrl = new Rtrl<double>(cell, batchSize: 2);
        var e = Assert.Throws<ArgumentException>(() => rtrl.Step(Tensor.Ones<double>(2, 2), h => h));
        Assert.Contains("scalar", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        var bad = Assert.Throws<ArgumentException>(() => rtrl.Step(Tensor.Ones<double>(2, 5)));
        Assert.Contains("[B, 2]", bad.Message);
    }
}
