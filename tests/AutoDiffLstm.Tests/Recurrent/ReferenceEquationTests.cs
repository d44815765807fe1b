using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>Every cell's forward step equals the scalar-loop reference of its published equations.</summary>
public class ReferenceEquationTests
{
    public static TheoryData<string> Kinds() => CellZoo.Names();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void StepMatchesThePublishedEquations(string kindName)
    {
        var kind = CellZoo.Get(kindName);
        for (int trial = 0; trial < 6; trial++)
        {
            var rng = new Rng((ulong)(100 + trial));
            int batch = 1 + rng.NextInt(3), input = 1 + rng.NextInt(4), hidden = 1 + rng.NextInt(4);
            var cell = kind.Make(input, hidden, rng);
            // Weights well beyond the default range so that saturation and large cell states are exercised too.
            cell = cell.WithParameters(cell.Parameters.Select(p =>
                new KeyValuePair<string, Tensor<double>>(p.Key, Tensor.RandomUniform<double>(rng, p.Value.Shape.ToArray(), -2, 2))));
            var x = Tensor.RandomNormal<double>(rng, [batch, input]);
            var state = new RecurrentState<double>(cell.StateNames,
                cell.StateNames.Select((name, k) => CellZoo.RandomState(name, [batch, cell.StateSize(k)], rng, -1.5, 1.5)).ToArray());

            var next = cell.Next(x, state);

            for (int b = 0; b < batch; b++)
            {
                var row = x.ToArray().Skip(b * input).Take(input).ToArray();
                var rowState = state.Tensors.Select((t, k) => t.ToArray().Skip(b * cell.StateSize(k)).Take(cell.StateSize(k)).ToArray()).ToArray();
                var expected = ReferenceCells.Step(kindName, cell, row, rowState);
                Assert.Equal(cell.StateNames.Count, expected.Length);
                for (int k = 0; k < expected.Length; k++)
                    for (int j = 0; j < expected[k].Length; j++)
                    {
                        double actual = next[k][b, j];
                        Assert.True(Math.Abs(actual - expected[k][j]) <= 1e-12 * (1 + Math.Abs(expected[k][j])),
                            $"{kindName} trial {trial}: state {cell.StateNames[k]}[{b}, {j}] is {actual}, the equations give {expected[k][j]}");
                    }
            }
        }
    }

    [Fact]
    public void GreffNoPeepholeVariantIsThePyTorchLstm()
    {
        var rng = new Rng(7);
        var lstm = new LstmCell<double>(3, 4, rng);
        var np = new LstmVariantCell<double>(LstmVariant.NoPeepholes, 3, 4, rng).WithParameters(lstm.Parameters);
        var x = Tensor.RandomNormal<double>(rng, [2, 3]);
        var state = new RecurrentState<double>(["h", "c"], Tensor.RandomNormal<double>(rng, [2, 4]), Tensor.RandomNormal<double>(rng, [2, 4]));
        var a = lstm.Next(x, state);
        var b = np.Next(x, state);
        Assert.Equal(a["h"].ToArray(), b["h"].ToArray());
        Assert.Equal(a["c"].ToArray(), b["c"].ToArray());
    }
}
