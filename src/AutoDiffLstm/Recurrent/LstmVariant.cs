namespace AutoDiffLstm.Recurrent;

/// <summary>
/// Which parts an <see cref="LstmVariantCell{T}"/> has. The presets are the vanilla LSTM and the eight one-change
/// variants of Greff, Srivastava, Koutník, Steunebrink and Schmidhuber, "LSTM: A Search Space Odyssey" (IEEE TNNLS
/// 2017, Section III): each switches off or changes exactly one part of <see cref="Vanilla"/>.
/// </summary>
public sealed record LstmVariant
{
    /// <summary>Short name used in the cell kind ("V", "NIG", ...).</summary>
    public required string Name { get; init; }

    /// <summary>Input gate i (off: i = 1).</summary>
    public bool InputGate { get; init; } = true;

    /// <summary>Forget gate f (off: f = 1, the cell state is never decayed).</summary>
    public bool ForgetGate { get; init; } = true;

    /// <summary>Output gate o (off: o = 1).</summary>
    public bool OutputGate { get; init; } = true;

    /// <summary>f = 1 - i instead of a forget gate with its own weights (needs <see cref="InputGate"/> and <see cref="ForgetGate"/>).</summary>
    public bool CoupledInputForget { get; init; }

    /// <summary>Block input activation g = tanh (off: identity).</summary>
    public bool InputActivation { get; init; } = true;

    /// <summary>Output activation h = tanh(c) (off: identity, h = o * c).</summary>
    public bool OutputActivation { get; init; } = true;

    /// <summary>Peephole connections: diagonal weights from c_{t-1} into i and f, and from c_t into o.</summary>
    public bool Peepholes { get; init; } = true;

    /// <summary>Recurrent connections from all gate activations at t-1 into all gates at t (nine extra H x H matrices).</summary>
    public bool FullGateRecurrence { get; init; }

    /// <summary>V: the vanilla LSTM of Greff et al. (forget gate and peepholes; Graves and Schmidhuber 2005).</summary>
    public static LstmVariant Vanilla { get; } = new() { Name = "V" };
    /// <summary>NIG: no input gate.</summary>
    public static LstmVariant NoInputGate { get; } = Vanilla with { Name = "NIG", InputGate = false };
    /// <summary>NFG: no forget gate.</summary>
    public static LstmVariant NoForgetGate { get; } = Vanilla with { Name = "NFG", ForgetGate = false };
    /// <summary>NOG: no output gate.</summary>
    public static LstmVariant NoOutputGate { get; } = Vanilla with { Name = "NOG", OutputGate = false };
    /// <summary>NIAF: no input activation function.</summary>
    public static LstmVariant NoInputActivation { get; } = Vanilla with { Name = "NIAF", InputActivation = false };
    /// <summary>NOAF: no output activation function.</summary>
    public static LstmVariant NoOutputActivation { get; } = Vanilla with { Name = "NOAF", OutputActivation = false };
    /// <summary>NP: no peepholes (the LSTM of PyTorch, cuDNN and <see cref="LstmCell{T}"/>).</summary>
    public static LstmVariant NoPeepholes { get; } = Vanilla with { Name = "NP", Peepholes = false };
    /// <summary>CIFG: coupled input and forget gate, f = 1 - i (as in the GRU).</summary>
    public static LstmVariant CoupledGates { get; } = Vanilla with { Name = "CIFG", CoupledInputForget = true };
    /// <summary>FGR: full gate recurrence.</summary>
    public static LstmVariant FullGateRecurrent { get; } = Vanilla with { Name = "FGR", FullGateRecurrence = true };

    /// <summary>The nine architectures compared by Greff et al., vanilla first.</summary>
    public static IReadOnlyList<LstmVariant> Greff { get; } =
        [Vanilla, NoInputGate, NoForgetGate, NoOutputGate, NoInputActivation, NoOutputActivation, NoPeepholes, CoupledGates, FullGateRecurrent];

    /// <summary>The gates with their own weights, in PyTorch's order (a subsequence of "ifgo"; g is always there).</summary>
    public string GateLayout =>
        (InputGate ? "i" : "") + (ForgetGate && !CoupledInputForget ? "f" : "") + "g" + (OutputGate ? "o" : "");

    /// <summary>The sigmoid gates with their own weights (<see cref="GateLayout"/> without g): the sources and targets of full gate recurrence.</summary>
    public string SigmoidGates => GateLayout.Replace("g", "");

    internal void Validate()
    {
        if (CoupledInputForget && (!InputGate || !ForgetGate))
            throw new ArgumentException($"LstmVariant '{Name}': coupling f = 1 - i needs both the input gate and the forget gate switched on.");
        if (FullGateRecurrence && SigmoidGates.Length == 0)
            throw new ArgumentException($"LstmVariant '{Name}': full gate recurrence needs at least one sigmoid gate.");
    }
}
