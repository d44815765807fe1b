using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>Everything one forward and backward pass of a layer produces, as plain arrays, for comparing two schedules.</summary>
internal sealed record LayerRun(double[] Output, double[][] Finals, IReadOnlyList<(string Name, double[]? Grad)> Gradients);

/// <summary>Runs a layer forward and backward with and without checkpointing and compares the results bit for bit.</summary>
internal static class CheckpointRuns
{
    /// <summary>
    /// L = sum(V * output) + sum_k sum(U_k * final state tensor k) with fixed random V, U_k (so every output and final
    /// state carries gradient), differentiated with respect to every parameter, x and the initial states.
    /// </summary>
    public static LayerRun Run(RecurrentLayer<double> layer, Tensor<double> x, SequenceOptions<double> options, ulong seed = 7)
    {
        Tape.Current.Reset();
        var parameters = layer.NamedParameters();
        foreach (var p in parameters) p.Value.ZeroGrad();
        var leaf = x.Clone().RequireGrad();
        var initial = options.InitialStates?.Select(s => s.Map(t => t.Clone().RequireGrad())).ToArray();
        var result = layer.Forward(leaf, options with { InitialStates = initial });
        var rng = new Rng(seed);
        var loss = (Tensor.RandomNormal<double>(rng, [.. result.Output.Shape]) * result.Output).Sum();
        foreach (var state in result.FinalStates)
            foreach (var t in state.Tensors) loss += (Tensor.RandomNormal<double>(rng, [.. t.Shape]) * t).Sum();
        loss.Backward();
        var gradients = parameters.Select(p => (p.Key, p.Value.Grad?.ToArray())).Append(("x", leaf.Grad?.ToArray())).ToList();
        if (initial is not null)
            for (int s = 0; s < initial.Length; s++)
                foreach (var (name, t) in initial[s].Names.Zip(initial[s].Tensors)) gradients.Add(($"{name}0[{s}]", t.Grad?.ToArray()));
        return new LayerRun(result.Output.ToArray(), result.FinalStates.SelectMany(s => s.Tensors).Select(t => t.ToArray()).ToArray(), gradients);
    }

    /// <summary>Same bits (so also the same signed zeros and NaN payloads), reporting the first difference.</summary>
    public static void BitIdentical(double[]? expected, double[]? actual, string what)
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{what}: one gradient is null and the other is not.");
            return;
        }
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (relative difference {Math.Abs(expected[i] - actual[i]) / Math.Abs(expected[i]):G3}).");
    }

    /// <summary>Largest |a - b| / max|a| over the array (0 when both are zero).</summary>
    public static double RelativeDifference(double[] expected, double[] actual)
    {
        double scale = expected.Max(Math.Abs), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        return scale == 0 ? worst : worst / scale;
    }

    /// <summary>
    /// Asserts that the checkpointed run equals the reference bit for bit: outputs, final states and every gradient,
    /// except those named in <paramref name="roundingOnly"/>, which must agree to <paramref name="relativeTolerance"/>.
    /// </summary>
    public static void AssertSame(LayerRun reference, LayerRun checkpointed, ISet<string>? roundingOnly = null, double relativeTolerance = 0)
    {
        BitIdentical(reference.Output, checkpointed.Output, "output");
        Assert.Equal(reference.Finals.Length, checkpointed.Finals.Length);
        for (int k = 0; k < reference.Finals.Length; k++) BitIdentical(reference.Finals[k], checkpointed.Finals[k], $"final state {k}");
        Assert.Equal(reference.Gradients.Select(g => g.Name), checkpointed.Gradients.Select(g => g.Name));
        for (int k = 0; k < reference.Gradients.Count; k++)
        {
            var (name, expected) = reference.Gradients[k];
            var actual = checkpointed.Gradients[k].Grad;
            if (roundingOnly?.Contains(name) == true)
            {
                Assert.NotNull(expected);
                Assert.NotNull(actual);
                double d = RelativeDifference(expected!, actual!);
                Assert.True(d <= relativeTolerance, $"grad {name}: relative difference {d:G3} exceeds {relativeTolerance:G3}.");
            }
            else BitIdentical(expected, actual, $"grad {name}");
        }
    }
}
