namespace AutoDiffLstm.Recurrent;

// PyTorch's layout of a stack's states: one tensor per state name (h, or h and c for an LSTM), [L*D, B, H] with row
// layer * directions + direction, as nn.RNN/nn.LSTM/nn.GRU take h_0 (c_0) and return h_n (c_n).
public sealed partial class RecurrentLayer<T>
{
    /// <summary>The cells' state names, in the order that stacked states are given and returned (h; h, c for an LSTM).</summary>
    public IReadOnlyList<string> StateNames => cells[0][0].StateNames;

    /// <summary>
    /// Runs the stack from PyTorch-style stacked initial states, one [L*D, B, H] tensor per state name in
    /// <see cref="StateNames"/> order (an LSTM's h_0, c_0). Gradients flow into the stacked tensors. The result's
    /// <see cref="SequenceResult{T}.Final"/> ("h", "c") and <see cref="StackStates"/> give h_n, c_n in the same layout.
    /// </summary>
    public SequenceResult<T> ForwardStacked(Tensor<T> x, IReadOnlyList<Tensor<T>> stackedInitialStates, SequenceOptions<T>? options = null)
    {
        options ??= new SequenceOptions<T>();
        if (options.InitialStates is not null)
            throw new ArgumentException("RecurrentLayer.ForwardStacked: initial states were given both stacked and in SequenceOptions.InitialStates; give one.");
        if (x.Rank != 3) throw new ArgumentException($"RecurrentLayer.ForwardStacked: the input has shape {x.ShapeText}; expected [T, B, {InputSize}].");
        return Forward(x, options with { InitialStates = UnstackStates(x.Shape[1], stackedInitialStates) });
    }

    /// <summary>
    /// Splits PyTorch-style stacked states (one [L*D, B, H] tensor per state name, <see cref="StateNames"/> order) into
    /// the per (layer, direction) states of <see cref="SequenceOptions{T}.InitialStates"/>. The pieces are views
    /// recorded on the tape, so gradients reach the stacked tensors.
    /// </summary>
    public IReadOnlyList<RecurrentState<T>> UnstackStates(IReadOnlyList<Tensor<T>> stacked) =>
        UnstackStates(stacked.Count > 0 && stacked[0].Rank == 3 ? stacked[0].Shape[1] : -1, stacked);

    private RecurrentState<T>[] UnstackStates(int batch, IReadOnlyList<Tensor<T>> stacked)
    {
        var names = StateNames;
        int slots = NumLayers * NumDirections;
        string b = batch < 0 ? "B" : batch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string expected = string.Join(", ", names.Select((n, i) => $"{n}0 [{slots}, {b}, {cells[0][0].StateSize(i)}]"));
        string layout = $"L*D = {NumLayers} layer(s) x {NumDirections} direction(s) = {slots}";
        if (stacked.Count != names.Count)
            throw new ArgumentException($"RecurrentLayer: {stacked.Count} stacked state tensor(s) were given; the {cells[0][0].Kind} stack expects {names.Count}: {expected} ({layout}).");
        for (int i = 0; i < names.Count; i++)
        {
            var t = stacked[i] ?? throw new ArgumentNullException(nameof(stacked), $"RecurrentLayer: the stacked state {names[i]}0 is null.");
            int size = cells[0][0].StateSize(i);
            if (t.Rank != 3 || t.Shape[0] != slots || t.Shape[1] != batch || t.Shape[2] != size)
                throw new ArgumentException($"RecurrentLayer: the stacked state {names[i]}0 has shape {t.ShapeText}; expected [{slots}, {b}, {size}] ({layout}, batch {b}, {names[i]} size {size}). All expected: {expected}.");
        }
        var states = new RecurrentState<T>[slots];
        for (int slot = 0; slot < slots; slot++)
            states[slot] = new RecurrentState<T>(names, stacked.Select(t => t.Select(0, slot)).ToArray());
        return states;
    }

    /// <summary>
    /// Stacks per (layer, direction) states (a <see cref="SequenceResult{T}.FinalStates"/>, or initial states) into
    /// PyTorch's layout: one [L*D, B, H] tensor per state name in <see cref="StateNames"/> order (h_n; h_n, c_n).
    /// </summary>
    public Tensor<T>[] StackStates(IReadOnlyList<RecurrentState<T>> states)
    {
        int slots = NumLayers * NumDirections;
        if (states.Count != slots)
            throw new ArgumentException($"RecurrentLayer.StackStates: {states.Count} state(s) were given; expected L*D = {NumLayers} layer(s) x {NumDirections} direction(s) = {slots}.");
        var names = StateNames;
        for (int slot = 0; slot < slots; slot++)
            if (!states[slot].Names.SequenceEqual(names))
                throw new ArgumentException($"RecurrentLayer.StackStates: state {slot} holds ({string.Join(", ", states[slot].Names)}); expected ({string.Join(", ", names)}).");
        return names.Select((_, i) => Tensor.Stack(0, states.Select(s => s[i]).ToArray())).ToArray();
    }
}
