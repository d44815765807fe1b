using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// A stack of recurrent cells over sequences [T, B, I], as PyTorch's nn.RNN / nn.LSTM / nn.GRU: optionally several
/// layers (layer k &gt; 0 reads layer k-1's outputs), bidirectional (a second cell per layer runs in reverse; outputs
/// are concatenated on the last axis, forward first), with optional residual connections, masks or lengths, truncated
/// BPTT, gradient checkpointing and per-step state diagnostics. Any <see cref="RecurrentCell{T}"/> works, built-in or custom.
/// </summary>
/// <remarks>
/// Parameter names follow PyTorch: the cell's own names with the suffix _l{k}, plus _reverse for the reverse
/// direction (weight_ih_l0, weight_hh_l0_reverse, ...), ordered layer by layer, forward before reverse.
/// </remarks>
public sealed partial class RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RecurrentCell<T>[][] cells; // [layer][direction]

    /// <summary>
    /// Creates the cells with <paramref name="makeCell"/>(input size, rng): for layer 0 the input size is
    /// <paramref name="inputSize"/>, for later layers directions * H. Cells are created layer by layer, forward before
    /// reverse, each from the next fork of <paramref name="rng"/>.
    /// </summary>
    /// <param name="residual">Add each layer's input to its output for every layer after the first (a skip connection; the widths always match there).</param>
    public RecurrentLayer(Func<int, Rng, RecurrentCell<T>> makeCell, int inputSize, Rng rng, int numLayers = 1, bool bidirectional = false, bool residual = false)
        : this(Build(makeCell, inputSize, rng, numLayers, bidirectional), residual) { }

    /// <summary>A layer over the given cells, cells[layer][direction] (one or two directions per layer).</summary>
    public RecurrentLayer(IReadOnlyList<IReadOnlyList<RecurrentCell<T>>> cells, bool residual = false)
    {
        if (cells.Count == 0) throw new ArgumentException("RecurrentLayer: needs at least one layer.");
        int directions = cells[0].Count, hidden = cells[0][0].HiddenSize;
        if (directions is not (1 or 2)) throw new ArgumentException($"RecurrentLayer: {directions} cells in layer 0; expected 1 (unidirectional) or 2 (bidirectional).");
        for (int l = 0; l < cells.Count; l++)
        {
            if (cells[l].Count != directions) throw new ArgumentException($"RecurrentLayer: layer {l} has {cells[l].Count} directions, layer 0 has {directions}.");
            foreach (var cell in cells[l])
            {
                if (cell.HiddenSize != hidden) throw new ArgumentException($"RecurrentLayer: cell {cell} of layer {l} has hidden size {cell.HiddenSize}; layer 0 has {hidden}.");
                if (l > 0 && cell.InputSize != directions * hidden)
                    throw new ArgumentException($"RecurrentLayer: cell {cell} of layer {l} reads the previous layer's output of width {directions * hidden}, but its input size is {cell.InputSize}.");
            }
            if (cells[l].Any(c => c.InputSize != cells[l][0].InputSize)) throw new ArgumentException($"RecurrentLayer: the directions of layer {l} have different input sizes.");
        }
        this.cells = cells.Select(layer => layer.ToArray()).ToArray();
        Residual = residual;
    }

    private static RecurrentCell<T>[][] Build(Func<int, Rng, RecurrentCell<T>> makeCell, int inputSize, Rng rng, int numLayers, bool bidirectional)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), $"RecurrentLayer: the number of layers must be positive, got {numLayers}.");
        var result = new RecurrentCell<T>[numLayers][];
        int width = inputSize;
        for (int l = 0; l < numLayers; l++)
        {
            result[l] = new RecurrentCell<T>[bidirectional ? 2 : 1];
            for (int d = 0; d < result[l].Length; d++)
            {
                var cell = makeCell(width, rng.Fork());
                if (cell.InputSize != width)
                    throw new ArgumentException($"RecurrentLayer: the cell factory was asked for input size {width} (layer {l}) but made {cell}.");
                result[l][d] = cell;
            }
            width = result[l].Length * result[l][0].HiddenSize;
        }
        return result;
    }

    /// <summary>Input width I of the first layer.</summary>
    public int InputSize => cells[0][0].InputSize;

    /// <summary>Hidden size H of every cell.</summary>
    public int HiddenSize => cells[0][0].HiddenSize;

    /// <summary>Number of stacked layers.</summary>
    public int NumLayers => cells.Length;

    /// <summary>1, or 2 when bidirectional.</summary>
    public int NumDirections => cells[0].Length;

    /// <summary>Width of the output: directions * H.</summary>
    public int OutputSize => NumDirections * HiddenSize;

    /// <summary>Whether layers after the first add their input to their output.</summary>
    public bool Residual { get; }

    /// <summary>The cell of one layer and direction (0 forward, 1 reverse).</summary>
    public RecurrentCell<T> Cell(int layer, int direction = 0) => cells[layer][direction];

    /// <summary>Suffix PyTorch appends to a cell's parameter names: _l{layer}, plus _reverse for direction 1.</summary>
    public static string Suffix(int layer, int direction) => $"_l{layer}" + (direction == 1 ? "_reverse" : "");

    /// <summary>All parameters with PyTorch names (weight_ih_l0, ..., weight_ih_l0_reverse, ...), in PyTorch's order.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor<T>>> NamedParameters()
    {
        var all = new List<KeyValuePair<string, Tensor<T>>>();
        for (int l = 0; l < cells.Length; l++)
            for (int d = 0; d < cells[l].Length; d++)
                foreach (var (name, tensor) in cells[l][d].Parameters) all.Add(new(name + Suffix(l, d), tensor));
        return all;
    }

    /// <summary>
    /// The same architecture over the given tensors (every name of <see cref="NamedParameters"/>, same shapes, used
    /// as they are): loading saved weights, or rebuilding the layer inside a gradient check.
    /// </summary>
    public RecurrentLayer<T> WithParameters(IEnumerable<KeyValuePair<string, Tensor<T>>> parameters)
    {
        var given = new Dictionary<string, Tensor<T>>();
        foreach (var (name, tensor) in parameters)
            if (!given.TryAdd(name, tensor)) throw new ArgumentException($"RecurrentLayer.WithParameters: the name '{name}' is given twice.");
        var rebuilt = new RecurrentCell<T>[cells.Length][];
        for (int l = 0; l < cells.Length; l++)
        {
            rebuilt[l] = new RecurrentCell<T>[cells[l].Length];
            for (int d = 0; d < cells[l].Length; d++)
            {
                string suffix = Suffix(l, d);
                var own = new List<KeyValuePair<string, Tensor<T>>>();
                foreach (var name in cells[l][d].Parameters.Names)
                {
                    if (!given.Remove(name + suffix, out var tensor))
                        throw new ArgumentException($"RecurrentLayer.WithParameters: parameter '{name + suffix}' is missing.");
                    own.Add(new(name, tensor));
                }
                rebuilt[l][d] = cells[l][d].WithParameters(own);
            }
        }
        if (given.Count > 0)
            throw new ArgumentException($"RecurrentLayer.WithParameters: unknown parameter(s) {string.Join(", ", given.Keys)}.");
        return new RecurrentLayer<T>(rebuilt, Residual);
    }

    /// <summary>Zero initial states for every (layer, direction), in <see cref="SequenceOptions{T}.InitialStates"/> order.</summary>
    public IReadOnlyList<RecurrentState<T>> InitialStates(int batch) => cells.SelectMany(layer => layer.Select(c => c.InitialState(batch))).ToArray();

    /// <summary>Runs the stack over <paramref name="x"/> ([T, B, I]).</summary>
    public SequenceResult<T> Forward(Tensor<T> x, SequenceOptions<T>? options = null)
    {
        options ??= new SequenceOptions<T>();
        if (x.Rank != 3 || x.Shape[2] != InputSize)
            throw new ArgumentException($"RecurrentLayer.Forward: the input has shape {x.ShapeText}; expected [T, B, {InputSize}].");
        int steps = x.Shape[0], batch = x.Shape[1], directions = NumDirections;
        if (options.Lengths is not null && options.Mask is not null)
            throw new ArgumentException("RecurrentLayer.Forward: give either Lengths or Mask, not both.");
        if (options.Lengths is not null && options.Lengths.Length != batch)
            throw new ArgumentException($"RecurrentLayer.Forward: {options.Lengths.Length} lengths were given for a batch of {batch} (input {x.ShapeText}).");
        var mask = options.Lengths is null ? options.Mask : SequenceMask.FromLengths<T>(options.Lengths, steps);
        if (options.InitialStates is not null && options.InitialStates.Count != NumLayers * directions)
            throw new ArgumentException($"RecurrentLayer.Forward: {options.InitialStates.Count} initial states were given; expected layers * directions = {NumLayers * directions}.");

        var passes = new UnrollResult<T>[NumLayers * directions];
        var stepStates = new IReadOnlyList<RecurrentState<T>>[NumLayers * directions];
        var layerOutputs = new Tensor<T>[NumLayers];
        var input = x;
        for (int l = 0; l < NumLayers; l++)
        {
            var outputs = new Tensor<T>[directions];
            for (int d = 0; d < directions; d++)
            {
                int slot = l * directions + d;
                var pass = Unroll.Run(cells[l][d], input, new UnrollOptions<T>
                {
                    InitialState = options.InitialStates?[slot],
                    Mask = mask,
                    Reverse = d == 1,
                    DetachEvery = options.DetachEvery,
                    HoistInputProjection = options.HoistInputProjection,
                    RetainStateGradients = options.RetainStateGradients,
                    CheckpointEvery = options.CheckpointEvery,
                    ParallelForm = options.ParallelForm,
                    Compile = options.Compile,
                });
                outputs[d] = pass.Output;
                passes[slot] = pass;
                stepStates[slot] = pass.States;
            }
            var output = directions == 1 ? outputs[0] : Tensor.Concat(-1, outputs);
            // Padded positions stay zero: the previous layer's output, added here, is zero there too.
            if (Residual && l > 0) output += input;
            layerOutputs[l] = output;
            input = output;
        }
        return new SequenceResult<T>(input, passes, stepStates, layerOutputs, directions);
    }
}
