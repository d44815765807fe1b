using FsCheck.Xunit;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// Random step functions from the elementwise primitive set (unary, binary with row, column and scalar broadcasts,
/// last-axis slicing and concatenation), compiled against the same function run interpreted: equal values, gradients
/// of every input to rounding. A graph is an int array decoded three numbers per operation, so FsCheck shrinks a
/// failing graph to the shortest array, i.e. the smallest graph, that still fails.
/// </summary>
public class RandomGraphProperties
{
    private const int Rows = 3, Cols = 6;

    /// <summary>The function a program array denotes: inputs x0, x1 [3, 6], bias [6], column [3, 1]; each op appends one [3, 6] value.</summary>
    internal static Func<Tensor<double>[], Tensor<double>[]> Decode(int[] program) => inputs =>
    {
        var values = new List<Tensor<double>> { inputs[0], inputs[1] };
        var (bias, column, half) = (inputs[2], inputs[3], Tensor.Scalar(0.5));
        Tensor<double> Pick(int k) => values[(int)((uint)k % (uint)values.Count)];
        Tensor<double> Other(int k) => ((uint)k % 5) switch { 0 => bias, 1 => column, 2 => half, _ => Pick(k / 5) };
        for (int i = 0; i + 2 < program.Length && values.Count < 24; i += 3)
        {
            var (a, b) = (Pick(program[i + 1]), Other(program[i + 2]));
            values.Add(((uint)program[i] % 11) switch
            {
                0 => a.Tanh(),
                1 => a.Sigmoid(),
                2 => a + b,
                3 => a - b,
                4 => a * b,
                5 => a / (b.Square() + 1.0),
                6 => Tensor.Maximum(a, b),
                7 => Tensor.Concat(-1, a.Narrow(-1, 2, Cols - 2), a.Narrow(-1, 0, 2)),
                8 => (a * 0.5).Exp(),
                9 => b * a.Square(),
                _ => a.Relu() - b,
            });
        }
        return [values[^1], values[values.Count / 2]];
    };

    [Property(MaxTest = 150)]
    public bool CompiledRandomGraphsEqualInterpreted(int[] program)
    {
        var rng = new Rng((ulong)program.Length + 11);
        Tensor<double>[] Inputs() => [Tensor.RandomNormal<double>(new Rng(1), [Rows, Cols]), Tensor.RandomNormal<double>(new Rng(2), [Rows, Cols]),
            Tensor.RandomNormal<double>(new Rng(3), [Cols]), Tensor.RandomNormal<double>(new Rng(4), [Rows, 1])];
        var weights = Tensor.RandomNormal<double>(rng, [Rows, Cols]);
        var f = Decode(program);
        var compiled = Compiler.Compile(f, "random");
        (double[] Values, double[][] Grads) Run(Func<Tensor<double>[], Tensor<double>[]> g)
        {
            Tape.Current.Reset();
            var xs = Inputs();
            foreach (var x in xs) x.RequireGrad();
            var outs = g(xs);
            ((outs[0] * weights).Sum() + outs[1].Square().Sum()).Backward();
            return ([.. outs[0].ToArray(), .. outs[1].ToArray()], xs.Select(x => x.Grad?.ToArray() ?? new double[x.Size]).ToArray());
        }
        var (plain, fused) = (Run(f), Run(compiled.Invoke));
        if (compiled.FallbackReason([Rows, Cols], [Rows, Cols], [Cols], [Rows, 1]) is string reason) throw new InvalidOperationException($"did not compile: {reason}");
        if (!plain.Values.SequenceEqual(fused.Values)) return false;
        for (int k = 0; k < plain.Grads.Length; k++)
        {
            double scale = Math.Max(1, plain.Grads[k].Max(Math.Abs));
            for (int i = 0; i < plain.Grads[k].Length; i++)
                if (!(Math.Abs(plain.Grads[k][i] - fused.Grads[k][i]) <= 1e-12 * scale)) return false;
        }
        return true;
    }

    private static Tensor<double>[] FreshInputs() => [Tensor.RandomNormal<double>(new Rng(1), [Rows, Cols]), Tensor.RandomNormal<double>(new Rng(2), [Rows, Cols]),
        Tensor.RandomNormal<double>(new Rng(3), [Cols]), Tensor.RandomNormal<double>(new Rng(4), [Rows, 1])];

    /// <summary>
    /// Under NoGrad a compiled run gives its inner values back to the pool: a run's outputs (some of them views, some
    /// inputs handed through) stay intact while later runs reuse those arrays, and equal the interpreted values.
    /// </summary>
    [Property(MaxTest = 100)]
    public bool UnderNoGradARunsOutputsSurviveLaterRuns(int[] program)
    {
        var f = Decode(program);
        var compiled = Compiler.Compile(f, "random-nograd");
        using var noGrad = Autograd.NoGrad();
        var expected = f(FreshInputs()).Select(o => o.ToArray()).ToArray();
        var first = compiled.Invoke(FreshInputs());
        for (int run = 0; run < 3; run++) compiled.Invoke(FreshInputs());
        return first.Select((o, k) => !o.IsRecycled && o.ToArray().SequenceEqual(expected[k])).All(ok => ok);
    }

    [Fact]
    public void UnderNoGradAnOutputThatIsAViewOfAnInnerValueKeepsItsStorage()
    {
        var w = Tensor.RandomNormal<double>(new Rng(5), [4, Cols]);
        Tensor<double>[] F(Tensor<double>[] xs) => [xs[0].Linear(w).Reshape(-1), xs[1].Tanh()];
        var compiled = Compiler.Compile<double>(F, "view-out");
        using var noGrad = Autograd.NoGrad();
        var expected = F(FreshInputs())[0].ToArray();
        var first = compiled.Invoke(FreshInputs())[0];
        for (int run = 0; run < 3; run++) compiled.Invoke(FreshInputs());
        Assert.False(first.IsRecycled);
        Assert.Equal(expected, first.ToArray());
    }

    [Fact]
    public void ACompiledFunctionInsideAnotherGivesTheInterpretedValuesUnderNoGrad()
    {
        var inner = Compiler.Compile<double>(xs => [(xs[0] * xs[1]).Tanh() + xs[0]], "inner");
        Tensor<double>[] Outer(Tensor<double>[] xs) => [inner.Invoke(xs[0] + xs[2], xs[1])[0].Sigmoid() * xs[1]];
        var outer = Compiler.Compile<double>(Outer, "outer");
        using var noGrad = Autograd.NoGrad();
        var expected = Outer(FreshInputs())[0].ToArray();
        var first = outer.Invoke(FreshInputs())[0];
        Assert.Equal(expected, outer.Invoke(FreshInputs())[0].ToArray());
        Assert.Equal(expected, first.ToArray());
    }

    [Fact]
    public void AWrongFusedDerivativeIsCaught()
    {
        // The property can fail: a graph through Maximum whose compiled gradient is compared with a wrong one fails the bound.
        var f = Decode([6, 0, 8]); // max(x0, x1)
        var xs = new[] { Tensor.RandomNormal<double>(new Rng(1), [Rows, Cols]).RequireGrad(), Tensor.RandomNormal<double>(new Rng(2), [Rows, Cols]),
            Tensor.RandomNormal<double>(new Rng(3), [Cols]), Tensor.RandomNormal<double>(new Rng(4), [Rows, 1]) };
        Tape.Current.Reset();
        Compiler.Compile(f).Invoke(xs)[0].Sum().Backward();
        var g = xs[0].Grad!.ToArray();
        // d max(x0, x1)/dx0 is 1 where x0 >= x1, else 0: exactly the mask, nothing in between.
        var (x0, x1) = (xs[0].ToArray(), xs[1].ToArray());
        for (int i = 0; i < g.Length; i++) Assert.Equal(x0[i] >= x1[i] ? 1.0 : 0.0, g[i]);
        Assert.Contains(g, v => v == 0);
        Assert.Contains(g, v => v == 1);
    }
}
