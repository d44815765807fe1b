using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The LSTM family of Greff et al., "LSTM: A Search Space Odyssey" (IEEE TNNLS 2017), Section II, in PyTorch's
/// notation (their block input z is g, their output y is h):
/// <code>
/// g_t = tanh(W_g x_t + R_g h_{t-1} + b_g)                                   (NIAF: no tanh)
/// i_t = sigmoid(W_i x_t + R_i h_{t-1} + p_i * c_{t-1} + b_i)               (NIG: i = 1)
/// f_t = sigmoid(W_f x_t + R_f h_{t-1} + p_f * c_{t-1} + b_f)               (NFG: f = 1; CIFG: f = 1 - i)
/// c_t = f_t * c_{t-1} + i_t * g_t
/// o_t = sigmoid(W_o x_t + R_o h_{t-1} + p_o * c_t + b_o)                   (NOG: o = 1)
/// h_t = o_t * tanh(c_t)                                                     (NOAF: no tanh)
/// </code>
/// NP drops the peephole terms p (giving PyTorch's LSTM); FGR adds, to each sigmoid gate's pre-activation, recurrent
/// terms from all three gate activations of the previous step (R_ii i_{t-1} + R_fi f_{t-1} + R_oi o_{t-1} for i, and
/// likewise for f and o).
/// <para>
/// Parameters (PyTorch names where PyTorch has the part): weight_ih [G*H, I], weight_hh [G*H, H], bias_ih [G*H],
/// bias_hh [G*H], with the G gates of <see cref="LstmVariant.GateLayout"/> in the order i, f, g, o (e.g. NIG: f, g, o);
/// the two biases are redundant, as in PyTorch, so that NP loads nn.LSTM weights. Peepholes: weight_ci, weight_cf,
/// weight_co, diagonal weights stored as vectors [H] (only for gates with their own weights). FGR: weight_gg
/// [S*H, S*H], rows the target gates and columns the previous activations, both in the order of
/// <see cref="LstmVariant.SigmoidGates"/> (S = 3: i, f, o). State: (h, c), and for FGR also "gates" [B, S*H]
/// holding the previous step's gate activations (zero at the start).
/// </para>
/// </summary>
public sealed class LstmVariantCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, weightHh, biasIh, biasHh;
    private readonly Tensor<T>? peepholeI, peepholeF, peepholeO, gateRecurrence;
    private readonly string layout, sigmoidGates;

    /// <summary>
    /// A cell with the default initialisation. With <paramref name="forgetBias"/> (only for variants whose forget
    /// gate has its own weights), the forget slice of bias_ih is set to that value and that of bias_hh to zero.
    /// </summary>
    public LstmVariantCell(LstmVariant variant, int inputSize, int hiddenSize, Rng rng, double? forgetBias = null)
        : this(variant, inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize, Layout(Checked(variant), inputSize, hiddenSize)))
    {
        if (forgetBias is not double value) return;
        int slot = layout.IndexOf('f');
        if (slot < 0) throw new ArgumentException($"LstmVariantCell: variant '{variant.Name}' has no forget gate with its own bias, so forgetBias cannot be applied.");
        DefaultInit.Fill(biasIh, slot * hiddenSize, hiddenSize, value);
        DefaultInit.Fill(biasHh, slot * hiddenSize, hiddenSize, 0);
    }

    private LstmVariantCell(LstmVariant variant, int inputSize, int hiddenSize, CellParameters<T> p)
        : base("lstm_" + variant.Name.ToLowerInvariant(), inputSize, hiddenSize, variant.FullGateRecurrence ? ["h", "c", "gates"] : ["h", "c"], p)
    {
        Variant = variant;
        layout = variant.GateLayout;
        sigmoidGates = variant.SigmoidGates;
        (weightIh, weightHh, biasIh, biasHh) = (p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]);
        peepholeI = p.Contains("weight_ci") ? p["weight_ci"] : null;
        peepholeF = p.Contains("weight_cf") ? p["weight_cf"] : null;
        peepholeO = p.Contains("weight_co") ? p["weight_co"] : null;
        gateRecurrence = p.Contains("weight_gg") ? p["weight_gg"] : null;
    }

    /// <summary>The architecture.</summary>
    public LstmVariant Variant { get; }

    private static LstmVariant Checked(LstmVariant variant)
    {
        variant.Validate();
        return variant;
    }

    private static IEnumerable<(string, int[])> Layout(LstmVariant v, int i, int h)
    {
        int g = v.GateLayout.Length, s = v.SigmoidGates.Length;
        yield return ("weight_ih", [g * h, i]);
        yield return ("weight_hh", [g * h, h]);
        yield return ("bias_ih", [g * h]);
        yield return ("bias_hh", [g * h]);
        if (v.Peepholes)
            foreach (char gate in v.SigmoidGates) yield return ("weight_c" + gate, [h]);
        if (v.FullGateRecurrence) yield return ("weight_gg", [s * h, s * h]);
    }

    /// <inheritdoc/>
    public override int StateSize(int index) => index == 2 ? sigmoidGates.Length * HiddenSize : HiddenSize;

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih for all gates with weights ([N, G*H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var (h, c) = (state[0], state[1]);
        var pre = (projectedInput + h.Linear(weightHh, biasHh)).Chunk(layout.Length, -1);
        var fromGates = gateRecurrence is null ? null : state[2].Linear(gateRecurrence).Chunk(sigmoidGates.Length, -1);

        // Pre-activation of sigmoid gate 'gate' with its optional peephole from 'cell' and optional gate recurrence.
        Tensor<T> Gate(char gate, Tensor<T>? peephole, Tensor<T> cell)
        {
            var a = pre[layout.IndexOf(gate)];
            if (peephole is not null) a += peephole * cell;
            if (fromGates is not null) a += fromGates[sigmoidGates.IndexOf(gate)];
            return a.Sigmoid();
        }

        Tensor<T>? i = layout.Contains('i') ? Gate('i', peepholeI, c) : null;            // null: the gate is 1
        Tensor<T>? f = Variant.CoupledInputForget ? T.One - i! : layout.Contains('f') ? Gate('f', peepholeF, c) : null;
        var g = pre[layout.IndexOf('g')];
        if (Variant.InputActivation) g = g.Tanh();
        var cNext = (f is null ? c : f * c) + (i is null ? g : i * g);
        Tensor<T>? o = layout.Contains('o') ? Gate('o', peepholeO, cNext) : null;
        // Only the gates the variant has are reported (a gate fixed at 1 is not a gate); CIFG's f = 1 - i is its forget gate.
        if (i is not null) GateMonitor.Observe("input", i);
        if (f is not null) GateMonitor.Observe("forget", f);
        // Without its tanh (NIAF) the block input is unbounded, so "saturated" would mean nothing: not reported.
        if (Variant.InputActivation) GateMonitor.Observe("candidate", g, GateRange.Tanh);
        if (o is not null) GateMonitor.Observe("output", o);
        var squashed = Variant.OutputActivation ? cNext.Tanh() : cNext;
        var hNext = o is null ? squashed : o * squashed;
        if (gateRecurrence is null) return new RecurrentState<T>(StateNames, hNext, cNext);

        var own = sigmoidGates.Select(gate => gate switch { 'i' => i!, 'f' => f!, _ => o! }).ToArray();
        return new RecurrentState<T>(StateNames, hNext, cNext, own.Length == 1 ? own[0] : Tensor.Concat(-1, own));
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new LstmVariantCell<T>(Variant, InputSize, HiddenSize, parameters);
}
