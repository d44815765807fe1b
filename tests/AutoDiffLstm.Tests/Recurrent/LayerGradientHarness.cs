using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Builds the scenario of a <see cref="RecurrentCase"/> for one cell kind: a stack with random weights of the case's
/// scale (plus a forget bias where the cell has a forget slice), a random input, random lengths or mask, random
/// initial states when given, and its <see cref="RecurrentObjective{T}"/> (a random linear functional of all outputs
/// and final states as a function of every parameter, the input and the initial states).
/// </summary>
public sealed class LayerGradientHarness
{
    private readonly RecurrentCase c;

    public LayerGradientHarness(CellKind kind, RecurrentCase c)
    {
        this.c = c;
        var rng = new Rng(c.Seed);
        var layer = new RecurrentLayer<double>((i, r) => kind.Make(i, c.Hidden, r), c.Input, rng.Fork(), c.Layers, c.Bidirectional, c.Residual);

        // Random weights of the requested scale (the default initialisation is irrelevant here), plus a forget bias.
        var parameters = layer.NamedParameters().Select(p => new KeyValuePair<string, Tensor<double>>(p.Key,
            Tensor.RandomUniform<double>(rng, p.Value.Shape.ToArray(), -c.WeightScale, c.WeightScale))).ToArray();
        if (kind.ForgetSlot >= 0)
            foreach (var (name, tensor) in parameters)
                if (name.StartsWith("bias_ih_", StringComparison.Ordinal))
                {
                    var span = tensor.AsWritableSpan().Slice(kind.ForgetSlot * c.Hidden, c.Hidden);
                    for (int j = 0; j < span.Length; j++) span[j] += c.ForgetBias;
                }
        layer = layer.WithParameters(parameters);

        var x = Tensor.RandomNormal<double>(rng, [c.Steps, c.Batch, c.Input]);
        IReadOnlyList<RecurrentState<double>>? initial = c.GivenInitialState
            ? layer.InitialStates(c.Batch).Select(s => new RecurrentState<double>(s.Names,
                s.Names.Select((name, k) => CellZoo.RandomState(name, s[k].Shape.ToArray(), rng, -1, 1)).ToArray())).ToArray()
            : null;
        int[]? lengths = c.Padding == Padding.Lengths ? Enumerable.Range(0, c.Batch).Select(_ => rng.NextInt(c.Steps + 1)).ToArray() : null;
        Tensor<double>? mask = null;
        if (c.Padding == Padding.Mask)
        {
            mask = Tensor.Zeros<double>(c.Steps, c.Batch);
            var m = mask.AsWritableSpan();
            for (int i = 0; i < m.Length; i++) m[i] = rng.NextDouble() < 0.75 ? 1 : 0;
        }
        Objective = new RecurrentObjective<double>(layer, x,
            new SequenceOptions<double> { InitialStates = initial, Lengths = lengths, Mask = mask, DetachEvery = c.DetachEvery }, rng.NextUInt64());
    }

    public RecurrentObjective<double> Objective { get; }

    public Tensor<double>[] BaseInputs => Objective.Inputs;

    public int InputElementCount => BaseInputs.Sum(t => t.Size);

    /// <summary>Unrolled step count over the whole stack (cost model for choosing the check mode).</summary>
    public int UnrolledSteps => c.Steps * c.Layers * (c.Bidirectional ? 2 : 1);

    /// <summary>Absolute tolerance: GradCheck's 1e-6, raised to the rounding floor of central differences with step 1e-6 when the loss terms are huge.</summary>
    public double AbsoluteTolerance => 1e-6 + 100 * 2.2e-16 * Objective.Magnitude() / 1e-6;

    /// <summary>dF/d(each input) at the base point by one backward pass, and F's value.</summary>
    public double[][] Gradients(Func<Tensor<double>[], Tensor<double>> f, out double value)
    {
        Tape.Current.Reset();
        var leaves = BaseInputs.Select(t => t.Clone().RequireGrad()).ToArray();
        var loss = f(leaves);
        value = loss.Item();
        loss.Backward();
        return leaves.Select(l => l.Grad?.ToArray() ?? new double[l.Size]).ToArray();
    }
}
