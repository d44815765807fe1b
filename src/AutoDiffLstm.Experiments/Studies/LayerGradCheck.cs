using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>
/// Gradient check of a whole recurrent layer in double: every parameter, the input sequence and every initial state,
/// under the loss L = sum(V * outputs) + sum over final states of sum(U * state) with random V and U, so every output
/// and the final state are covered. Works for any cell, built-in or custom.
/// </summary>
public static class LayerGradCheck
{
    /// <summary>Checks <paramref name="layer"/> on a random input of <paramref name="steps"/> x <paramref name="batch"/>.</summary>
    public static GradCheckReport Run(RecurrentLayer<double> layer, int steps, int batch, ulong seed, GradCheckOptions? options = null)
    {
        if (steps <= 0 || batch <= 0) throw new ArgumentException($"LayerGradCheck: steps ({steps}) and batch ({batch}) must be positive.");
        var rng = new Rng(seed);
        var named = layer.NamedParameters();
        var x = Tensor.RandomNormal<double>(rng, [steps, batch, layer.InputSize]);
        var initial = layer.InitialStates(batch).Select(s => s.Map(t => Tensor.RandomNormal<double>(rng, [.. t.Shape], 0, 0.5))).ToArray();
        var outputWeights = Tensor.RandomNormal<double>(rng, [steps, batch, layer.OutputSize]);
        var stateWeights = initial.Select(s => s.Tensors.Select(t => Tensor.RandomNormal<double>(rng, [.. t.Shape])).ToArray()).ToArray();

        var inputs = named.Select(p => p.Value).Append(x).Concat(initial.SelectMany(s => s.Tensors)).ToArray();
        Tensor<double> Loss(Tensor<double>[] v)
        {
            int k = 0;
            var rebuilt = layer.WithParameters(named.Select(p => new KeyValuePair<string, Tensor<double>>(p.Key, v[k++])));
            var input = v[k++];
            var states = initial.Select(s => new RecurrentState<double>(s.Names, s.Tensors.Select(_ => v[k++]).ToArray())).ToArray();
            var result = rebuilt.Forward(input, new SequenceOptions<double> { InitialStates = states });
            var loss = (result.Output * outputWeights).Sum();
            for (int i = 0; i < result.FinalStates.Count; i++)
                for (int j = 0; j < result.FinalStates[i].Count; j++)
                    loss = loss + (result.FinalStates[i][j] * stateWeights[i][j]).Sum();
            return loss;
        }
        return GradCheck.Check(Loss, inputs, options ?? new GradCheckOptions { Mode = GradCheckMode.Directional, Directions = 8, Seed = seed + 1 });
    }
}
