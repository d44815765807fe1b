using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// The first backward rule to reach an input writes its gradient into a buffer from the pool without zero-filling it
/// first (<c>GradSink</c>), so it must write every element, including those it contributes nothing to (Narrow's
/// backward outside the slice). For every primitive: gradients computed while the pool is full of stale arrays of the
/// inputs' sizes are bit for bit those computed from an empty pool, where fresh arrays are zeros.
/// </summary>
public class FreshGradientBufferProperties
{
    private const int CasesPerPrimitive = 25;
    private const double Stale = 777.25; // what a rule that forgot an element would leave in (or add to) the gradient

    [Theory]
    [MemberData(nameof(PrimitiveSpecs.Names), MemberType = typeof(PrimitiveSpecs))]
    public void GradientsDoNotDependOnWhatThePoolHolds(string primitive)
    {
        var spec = PrimitiveSpecs.Get<double>(primitive);
        Prop.ForAll(PrimitiveCases.For(spec), c =>
            {
                Tape.ClearBufferPool();
                var reference = Gradients(spec, c);
                Tape.ClearBufferPool();
                foreach (var values in c.Values) FillPoolWithStaleArrays(values.Length);
                var again = Gradients(spec, c);
                Tape.ClearBufferPool();
                bool same = reference.Zip(again).All(p => p.First.Length == p.Second.Length
                    && p.First.Zip(p.Second).All(v => BitConverter.DoubleToInt64Bits(v.First) == BitConverter.DoubleToInt64Bits(v.Second)));
                return same.Label($"{spec.Name} on {c.Shapes}: from an empty pool [{Text(reference)}], from a stale pool [{Text(again)}]");
            })
            .Check(Config.QuickThrowOnFailure.WithMaxTest(CasesPerPrimitive));
    }

    [Fact]
    public void ASumOfEveryElementWritesAFreshGradientAndAddsToOneBegunByAnotherRule()
    {
        Tape.ClearBufferPool();
        FillPoolWithStaleArrays(6);
        Tape.Current.Reset();
        var x = Tensor.FromArray(new double[] { 1, -2, 3, 0.5, 4, -1 }, 2, 3).RequireGrad();
        (x.Sum() * 2.5).Backward();   // the sum is the only rule to reach x: its gradient is written whole
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(2.5, g));

        FillPoolWithStaleArrays(6);
        Tape.Current.Reset();
        var y = Tensor.FromArray(new double[] { 1, -2, 3, 0.5, 4, -1 }, 2, 3).RequireGrad();
        (y.Sum() + (y * 3.0).Sum()).Backward();   // the product reaches y first, then the sum adds its 1
        Assert.All(y.Grad!.ToArray(), g => Assert.Equal(4.0, g));
        Tape.ClearBufferPool();
    }

    /// <summary>dL/dx for every input, L = sum(w * f(x)) with weights fixed by the case.</summary>
    private static double[][] Gradients(PrimitiveSpec<double> spec, PrimitiveCase c)
    {
        Tape.Current.Reset();
        var inputs = PrimitiveGradientProperties.Inputs<double>(c).Select(t => t.RequireGrad()).ToArray();
        var y = spec.Apply(c, inputs);
        var weights = Tensor.RandomNormal<double>(new Rng(PrimitiveGradientProperties.SeedOf(c)), [.. y.Shape]);
        (y * weights).Sum().Backward();
        return inputs.Select(x => x.Grad?.ToArray() ?? []).ToArray();
    }

    private static void FillPoolWithStaleArrays(int length)
    {
        for (int i = 0; i < 4; i++)
        {
            var stale = new double[length];
            stale.AsSpan().Fill(Stale);
            BufferPool<double>.Return(stale);
        }
    }

    private static string Text(double[][] grads) => string.Join("; ", grads.Select(g => string.Join(", ", g.Take(8).Select(v => v.ToString("R")))));
}
