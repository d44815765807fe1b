using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// A layer's run as a scalar function of everything that feeds it, for gradient checks: L = sum(V * outputs) +
/// sum_k sum(U_k * final state tensor k) with fixed random weights V, U_k, as a function of the inputs
/// [every parameter (PyTorch order), x, every given initial state tensor]. The layer is rebuilt from the inputs on each
/// evaluation (<see cref="RecurrentLayer{T}.WithParameters"/>), so perturbing an input perturbs the real computation.
/// </summary>
public sealed class RecurrentObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RecurrentLayer<T> layer;
    private readonly string[] parameterNames;
    private readonly IReadOnlyList<RecurrentState<T>>? initialTemplate;
    private readonly Tensor<T>? mask;
    private readonly int detachEvery, checkpointEvery, steps, batch;
    private readonly Tensor<T> outputWeights;
    private readonly Tensor<T>[] finalWeights;
    private IReadOnlyList<RecurrentState<T>>[]? frozen;

    /// <summary>The objective of <paramref name="layer"/> on <paramref name="x"/> with <paramref name="options"/> (lengths, mask, initial states, truncation); loss weights drawn from <paramref name="seed"/>.</summary>
    public RecurrentObjective(RecurrentLayer<T> layer, Tensor<T> x, SequenceOptions<T>? options = null, ulong seed = 1)
    {
        options ??= new SequenceOptions<T>();
        if (x.Rank != 3) throw new ArgumentException($"RecurrentObjective: the input has shape {x.ShapeText}; expected [T, B, {layer.InputSize}].");
        (steps, batch) = (x.Shape[0], x.Shape[1]);
        this.layer = layer;
        var named = layer.NamedParameters();
        parameterNames = named.Select(p => p.Key).ToArray();
        initialTemplate = options.InitialStates;
        if (options.Lengths is not null && options.Mask is not null) throw new ArgumentException("RecurrentObjective: give either Lengths or Mask, not both.");
        mask = options.Lengths is null ? options.Mask : SequenceMask.FromLengths<T>(options.Lengths, steps);
        detachEvery = options.DetachEvery;
        checkpointEvery = options.CheckpointEvery;

        var inputs = named.Select(p => p.Value.Clone()).Append(x.Clone()).ToList();
        var names = parameterNames.Append("x").ToList();
        if (initialTemplate is not null)
            for (int slot = 0; slot < initialTemplate.Count; slot++)
                foreach (var (name, tensor) in initialTemplate[slot].Names.Zip(initialTemplate[slot].Tensors))
                {
                    inputs.Add(tensor.Clone());
                    names.Add($"{name}0" + RecurrentLayer<T>.Suffix(slot / layer.NumDirections, slot % layer.NumDirections));
                }
        Inputs = [.. inputs];
        InputNames = names;

        var rng = new Rng(seed);
        outputWeights = Tensor.RandomNormal<T>(rng, [steps, batch, layer.OutputSize]);
        finalWeights = layer.InitialStates(batch).SelectMany(s => s.Tensors).Select(t => Tensor.RandomNormal<T>(rng, t.Shape.ToArray())).ToArray();
    }

    /// <summary>The point of evaluation: copies of the parameters, of x and of the given initial states.</summary>
    public Tensor<T>[] Inputs { get; }

    /// <summary>Names of <see cref="Inputs"/>: PyTorch parameter names, "x", then h0_l0, c0_l0, ... (for reading a report's input index).</summary>
    public IReadOnlyList<string> InputNames { get; }

    private (RecurrentLayer<T> Layer, Tensor<T> X, IReadOnlyList<RecurrentState<T>>? Initial) Unpack(Tensor<T>[] inputs)
    {
        if (inputs.Length != Inputs.Length) throw new ArgumentException($"RecurrentObjective: {inputs.Length} inputs were given; expected {Inputs.Length} ({string.Join(", ", InputNames)}).");
        var rebuilt = layer.WithParameters(parameterNames.Select((n, k) => new KeyValuePair<string, Tensor<T>>(n, inputs[k])));
        int next = parameterNames.Length + 1;
        var initial = initialTemplate?.Select(s => new RecurrentState<T>(s.Names, s.Tensors.Select(_ => inputs[next++]).ToArray())).ToArray();
        return (rebuilt, inputs[parameterNames.Length], initial);
    }

    private Tensor<T> WithFinalTerms(Tensor<T> loss, IReadOnlyList<RecurrentState<T>> finals)
    {
        int k = 0;
        foreach (var state in finals)
            foreach (var t in state.Tensors) loss += (finalWeights[k++] * t).Sum();
        return loss;
    }

    /// <summary>L with the layer run as configured (truncation, checkpointing): with truncation its value is the full objective's and its gradient the truncated one.</summary>
    public Tensor<T> Evaluate(Tensor<T>[] inputs)
    {
        var (l, x, initial) = Unpack(inputs);
        var result = l.Forward(x, new SequenceOptions<T> { InitialStates = initial, Mask = mask, DetachEvery = detachEvery, CheckpointEvery = checkpointEvery });
        return WithFinalTerms((outputWeights * result.Output).Sum(), result.FinalStates);
    }

    /// <summary>
    /// The truncated objective G whose exact gradient truncated BPTT computes. Finite differences of the layer's own
    /// pass cannot be the reference: Detach changes gradients, not values, so they measure the full gradient. With the
    /// state detached at every multiple of k, an output in chunk [jk, (j+1)k) depends, for gradients, on the parameters,
    /// on that chunk's inputs, and on the states entering the chunk taken as constants. G is the sum over chunks of
    /// that chunk's loss terms, each computed by running the stack over the chunk alone from the entering states frozen
    /// at their values at <see cref="Inputs"/>, except where a chunk starts from the initial state (chunk 0 forward, the
    /// last chunk in reverse), which stays live. G equals L at <see cref="Inputs"/>; perturbing the inputs moves G
    /// exactly as truncated BPTT assumes, so its central differences are the right reference. Without truncation G = L.
    /// </summary>
    public Tensor<T> TruncatedObjective(Tensor<T>[] inputs)
    {
        if (detachEvery == 0) return Evaluate(inputs);
        frozen ??= FrozenStates();
        var (l, x, initial) = Unpack(inputs);
        int k = detachEvery, directions = l.NumDirections, chunks = (steps + k - 1) / k;
        var zero = l.InitialStates(batch);
        Tensor<T>? loss = null;
        var finals = new RecurrentState<T>[zero.Count];
        for (int j = 0; j < chunks; j++)
        {
            int start = j * k, length = Math.Min(k, steps - start);
            var entering = new RecurrentState<T>[zero.Count];
            for (int slot = 0; slot < zero.Count; slot++)
            {
                bool reverse = slot % directions == 1;
                bool fromInitial = reverse ? j == chunks - 1 : j == 0;
                entering[slot] = fromInitial ? initial?[slot] ?? zero[slot] : frozen[slot][reverse ? start + length : start - 1];
            }
            var result = l.Forward(x.Narrow(0, start, length), new SequenceOptions<T> { InitialStates = entering, Mask = mask?.Narrow(0, start, length) });
            var term = (outputWeights.Narrow(0, start, length) * result.Output).Sum();
            loss = loss is null ? term : loss + term;
            for (int slot = 0; slot < zero.Count; slot++)
                if (slot % directions == 1 ? j == 0 : j == chunks - 1) finals[slot] = result.FinalStates[slot];
        }
        return WithFinalTerms(loss!, finals);
    }

    /// <summary>Every per-step state of the untruncated run at <see cref="Inputs"/>, as constants.</summary>
    private IReadOnlyList<RecurrentState<T>>[] FrozenStates()
    {
        using var _ = Autograd.NoGrad();
        var (l, x, initial) = Unpack(Inputs);
        var result = l.Forward(x, new SequenceOptions<T> { InitialStates = initial, Mask = mask });
        return result.StepStates.Select(s => (IReadOnlyList<RecurrentState<T>>)s.Select(state => state.Map(t => t.Clone())).ToArray()).ToArray();
    }

    /// <summary>
    /// Sum of |every term of L| at <see cref="Inputs"/>. Evaluating L rounds to a few ulps of this, so central
    /// differences with step h carry an error of about eps * magnitude / h, large when states grow (ReLU cells).
    /// </summary>
    public double Magnitude()
    {
        using var _ = Autograd.NoGrad();
        var (l, x, initial) = Unpack(Inputs);
        var result = l.Forward(x, new SequenceOptions<T> { InitialStates = initial, Mask = mask });
        double total = Sum(outputWeights * result.Output);
        int k = 0;
        foreach (var state in result.FinalStates)
            foreach (var t in state.Tensors) total += Sum(finalWeights[k++] * t);
        return total;

        static double Sum(Tensor<T> t)
        {
            double s = 0;
            foreach (var v in t.AsSpan()) s += Math.Abs(double.CreateChecked(v));
            return s;
        }
    }
}
