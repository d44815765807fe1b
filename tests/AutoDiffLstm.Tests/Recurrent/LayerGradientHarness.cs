using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Builds the scenario of a <see cref="RecurrentCase"/> for one cell kind and checks every gradient of
/// L = sum(V * outputs) + sum_k sum(U_k * final state tensor k) against central differences: all parameters, the input
/// sequence and (when given) every initial state tensor are GradCheck inputs, and the layer is rebuilt from them inside
/// the checked function.
/// </summary>
public sealed class LayerGradientHarness
{
    private readonly RecurrentLayer<double> layer;
    private readonly string[] names;
    private readonly Tensor<double>[] baseInputs;
    private readonly int parameterCount;
    private readonly Tensor<double>? mask;
    private readonly int[]? lengths;
    private readonly Tensor<double> outputWeights;
    private readonly Tensor<double>[] finalWeights;
    private readonly RecurrentCase c;

    public LayerGradientHarness(CellKind kind, RecurrentCase c)
    {
        this.c = c;
        var rng = new Rng(c.Seed);
        layer = new RecurrentLayer<double>((i, r) => kind.Make(i, c.Hidden, r), c.Input, rng.Fork(), c.Layers, c.Bidirectional, c.Residual);

        // Random weights of the requested scale (the default initialisation is irrelevant here), plus a forget bias.
        var named = layer.NamedParameters();
        names = named.Select(p => p.Key).ToArray();
        var parameters = named.Select(p => Tensor.RandomUniform<double>(rng, p.Value.Shape.ToArray(), -c.WeightScale, c.WeightScale)).ToArray();
        if (kind.ForgetSlot >= 0)
            for (int k = 0; k < names.Length; k++)
                if (names[k].StartsWith("bias_ih_", StringComparison.Ordinal))
                {
                    var span = parameters[k].AsWritableSpan().Slice(kind.ForgetSlot * c.Hidden, c.Hidden);
                    for (int j = 0; j < span.Length; j++) span[j] += c.ForgetBias;
                }
        parameterCount = parameters.Length;

        var x = Tensor.RandomNormal<double>(rng, [c.Steps, c.Batch, c.Input]);
        var inputs = new List<Tensor<double>>(parameters) { x };
        if (c.GivenInitialState)
            foreach (var state in layer.InitialStates(c.Batch))
                foreach (var t in state.Tensors) inputs.Add(Tensor.RandomUniform<double>(rng, t.Shape.ToArray(), -1, 1));
        baseInputs = [.. inputs];

        if (c.Padding == Padding.Lengths) lengths = Enumerable.Range(0, c.Batch).Select(_ => rng.NextInt(c.Steps + 1)).ToArray();
        if (c.Padding == Padding.Mask)
        {
            mask = Tensor.Zeros<double>(c.Steps, c.Batch);
            var m = mask.AsWritableSpan();
            for (int i = 0; i < m.Length; i++) m[i] = rng.NextDouble() < 0.75 ? 1 : 0;
        }

        outputWeights = Tensor.RandomNormal<double>(rng, [c.Steps, c.Batch, layer.OutputSize]);
        finalWeights = layer.InitialStates(c.Batch).SelectMany(s => s.Tensors).Select(t => Tensor.RandomNormal<double>(rng, t.Shape.ToArray())).ToArray();
    }

    public Tensor<double>[] BaseInputs => baseInputs;

    public int InputElementCount => baseInputs.Sum(t => t.Size);

    /// <summary>Unrolled step count over the whole stack (cost model for choosing the check mode).</summary>
    public int UnrolledSteps => c.Steps * c.Layers * (c.Bidirectional ? 2 : 1);

    /// <summary>The layer rebuilt over inputs[0 .. parameterCount) and the initial states over the tail (or null: zeros).</summary>
    private (RecurrentLayer<double> Layer, Tensor<double> X, IReadOnlyList<RecurrentState<double>>? Initial) Unpack(Tensor<double>[] inputs)
    {
        var rebuilt = layer.WithParameters(names.Select((n, k) => new KeyValuePair<string, Tensor<double>>(n, inputs[k])));
        IReadOnlyList<RecurrentState<double>>? initial = null;
        if (c.GivenInitialState)
        {
            int next = parameterCount + 1;
            initial = layer.InitialStates(c.Batch).Select(s => new RecurrentState<double>(s.Names, s.Tensors.Select(_ => inputs[next++]).ToArray())).ToArray();
        }
        return (rebuilt, inputs[parameterCount], initial);
    }

    private SequenceOptions<double> Options(IReadOnlyList<RecurrentState<double>>? initial, int detachEvery) =>
        new() { InitialStates = initial, Lengths = lengths, Mask = mask, DetachEvery = detachEvery };

    private Tensor<double> Loss(SequenceResult<double> result)
    {
        var loss = (outputWeights * result.Output).Sum();
        int k = 0;
        foreach (var state in result.FinalStates)
            foreach (var t in state.Tensors) loss += (finalWeights[k++] * t).Sum();
        return loss;
    }

    /// <summary>
    /// Sum of the absolute values of all terms of the loss at the base point. Evaluating the loss carries a rounding
    /// error of a few ulps of this, so central differences with step h are only accurate to about eps * magnitude / h
    /// (large when ReLU states grow): the tolerance must include that floor.
    /// </summary>
    public double LossMagnitude()
    {
        using var _ = Autograd.NoGrad();
        var (l, x, initial) = Unpack(baseInputs);
        var result = l.Forward(x, Options(initial, 0));
        double total = 0;
        foreach (var v in (outputWeights * result.Output).AsSpan()) total += Math.Abs(v);
        int k = 0;
        foreach (var state in result.FinalStates)
            foreach (var t in state.Tensors)
                foreach (var v in (finalWeights[k++] * t).AsSpan()) total += Math.Abs(v);
        return total;
    }

    /// <summary>The full objective (no truncation).</summary>
    public Tensor<double> FullLoss(Tensor<double>[] inputs)
    {
        var (l, x, initial) = Unpack(inputs);
        return Loss(l.Forward(x, Options(initial, 0)));
    }

    /// <summary>The objective run with truncated BPTT (same value as <see cref="FullLoss"/>, truncated gradient).</summary>
    public Tensor<double> TruncatedRun(Tensor<double>[] inputs)
    {
        var (l, x, initial) = Unpack(inputs);
        return Loss(l.Forward(x, Options(initial, c.DetachEvery)));
    }

    /// <summary>
    /// The truncated objective G, whose exact gradient truncated BPTT must compute. Finite differences of the layer's
    /// own forward pass cannot serve as reference: Detach changes gradients, not values, so they measure the full
    /// gradient. With detaching at every multiple of k, an output in chunk [jk, (j+1)k) depends (for gradients) on the
    /// parameters, on that chunk's inputs, and on the states entering the chunk treated as constants. G is therefore the
    /// sum over chunks of the loss terms of that chunk, each computed by running the stack over the chunk alone from the
    /// entering states frozen at their values at the base point (<paramref name="frozen"/>), except where a chunk
    /// starts from the initial state (chunk 0 forward, the last chunk in reverse), which stays a live input. Perturbing
    /// the inputs then moves G exactly as truncated BPTT assumes, so its central differences are the right reference.
    /// </summary>
    public Tensor<double> TruncatedObjective(Tensor<double>[] inputs, IReadOnlyList<IReadOnlyList<RecurrentState<double>>> frozen)
    {
        var (l, x, initial) = Unpack(inputs);
        int k = c.DetachEvery, directions = l.NumDirections, chunks = (c.Steps + k - 1) / k;
        var zero = l.InitialStates(c.Batch);
        var fullMask = lengths is null ? mask : SequenceMask.FromLengths<double>(lengths, c.Steps);
        Tensor<double>? loss = null;
        var finals = new RecurrentState<double>[zero.Count];
        for (int j = 0; j < chunks; j++)
        {
            int start = j * k, length = Math.Min(k, c.Steps - start);
            var entering = new RecurrentState<double>[zero.Count];
            for (int slot = 0; slot < zero.Count; slot++)
            {
                bool reverse = slot % directions == 1;
                bool fromInitial = reverse ? j == chunks - 1 : j == 0;
                entering[slot] = fromInitial ? (initial?[slot] ?? zero[slot])
                    : frozen[slot][reverse ? start + length : start - 1];
            }
            var result = l.Forward(x.Narrow(0, start, length), new SequenceOptions<double> { InitialStates = entering, Mask = fullMask?.Narrow(0, start, length) });
            var term = (outputWeights.Narrow(0, start, length) * result.Output).Sum();
            loss = loss is null ? term : loss + term;
            for (int slot = 0; slot < zero.Count; slot++)
                if (slot % directions == 1 ? j == 0 : j == chunks - 1) finals[slot] = result.FinalStates[slot];
        }
        int w = 0;
        foreach (var state in finals)
            foreach (var t in state.Tensors) loss = loss! + (finalWeights[w++] * t).Sum();
        return loss!;
    }

    /// <summary>The per-step states of the untruncated run at the base point, as constants.</summary>
    public IReadOnlyList<IReadOnlyList<RecurrentState<double>>> FrozenStates()
    {
        using var _ = Autograd.NoGrad();
        var (l, x, initial) = Unpack(baseInputs);
        var result = l.Forward(x, Options(initial, 0));
        return result.StepStates.Select(steps => (IReadOnlyList<RecurrentState<double>>)steps.Select(s => s.Map(t => t.Clone())).ToArray()).ToArray();
    }

    /// <summary>dF/d(each input) at the base point by one backward pass.</summary>
    public double[][] Gradients(Func<Tensor<double>[], Tensor<double>> f, out double value)
    {
        Tape.Current.Reset();
        var leaves = baseInputs.Select(t => t.Clone().RequireGrad()).ToArray();
        var loss = f(leaves);
        value = loss.Item();
        loss.Backward();
        return leaves.Select(l => l.Grad?.ToArray() ?? new double[l.Size]).ToArray();
    }

    /// <summary>
    /// For ReLU cells: the smallest |pre-activation| over all live steps, layers and directions at the base point.
    /// Where it is tiny the loss has a kink within reach of the finite-difference step, and no derivative to check.
    /// </summary>
    public double SmallestReluPreactivation()
    {
        using var _ = Autograd.NoGrad();
        var (l, x, initial) = Unpack(baseInputs);
        var result = l.Forward(x, Options(initial, 0));
        var live = lengths is null ? mask : SequenceMask.FromLengths<double>(lengths, c.Steps);
        double smallest = double.PositiveInfinity;
        for (int layerIndex = 0; layerIndex < l.NumLayers; layerIndex++)
            for (int d = 0; d < l.NumDirections; d++)
            {
                var cell = l.Cell(layerIndex, d);
                var input = layerIndex == 0 ? x : result.LayerOutputs[layerIndex - 1];
                int slot = layerIndex * l.NumDirections + d;
                var states = result.StepStates[slot];
                for (int t = 0; t < c.Steps; t++)
                {
                    int previous = d == 0 ? t - 1 : t + 1;
                    var h = previous < 0 || previous >= c.Steps ? (initial?[slot] ?? cell.InitialState(c.Batch))[0] : states[previous][0];
                    var z = cell.ProjectInput(input.Select(0, t)) + h.Linear(cell.Parameters["weight_hh"], cell.Parameters["bias_hh"]);
                    for (int b = 0; b < c.Batch; b++)
                        if (live is null || live[t, b] != 0)
                            for (int j = 0; j < c.Hidden; j++) smallest = Math.Min(smallest, Math.Abs(z[b, j]));
                }
            }
        return smallest;
    }
}
