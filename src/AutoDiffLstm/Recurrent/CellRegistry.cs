using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>Makes one cell: (input size, hidden size, rng, forget-gate bias or null) -> cell.</summary>
public delegate RecurrentCell<T> CellFactory<T>(int inputSize, int hiddenSize, Rng rng, double? forgetBias) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What the registry knows about one cell besides its factory.</summary>
/// <param name="Name">The name users type (<c>adl train --cell mingru</c>), lower case, unique.</param>
/// <param name="Kind">The cells' own <see cref="RecurrentCell{T}.Kind"/> (several names may share one: irnn is an rnn_relu).</param>
/// <param name="Description">One line: what it is and where it comes from.</param>
/// <param name="StateNames">The state tensors, in order (the first is the output h).</param>
/// <param name="HasParallelForm">True for cells linear in their state (<see cref="LinearRecurrentCell{T}"/>), which train by one scan over time.</param>
/// <param name="AcceptsForgetBias">Whether a forget-gate bias can be given (cells with a forget gate of their own).</param>
/// <param name="BuiltIn">False for cells registered at run time (<see cref="CellRegistry.Register"/>).</param>
public sealed record CellInfo(string Name, string Kind, string Description, IReadOnlyList<string> StateNames, bool HasParallelForm,
    bool AcceptsForgetBias, bool BuiltIn);

/// <summary>
/// The one list of recurrent cells the toolkit knows by name: the command line, the experiments, the papers and the tests
/// read it, and a researcher's cell (a <see cref="CustomCell{T}"/> or any <see cref="RecurrentCell{T}"/>) joins it with
/// <see cref="Register"/>. State names and whether a cell has a parallel form are read from a 1x1 instance, so they
/// cannot drift from the cell.
/// </summary>
public static class CellRegistry
{
    private static readonly object Gate = new();
    private static readonly List<CellInfo> infos = [];

    static CellRegistry()
    {
        foreach (var (name, description, forgetBias) in BuiltIns<double>().Select(b => (b.Name, b.Description, b.AcceptsForgetBias)))
            infos.Add(Describe(name, description, forgetBias, builtIn: true, Factories<double>.ByName[name]));
    }

    /// <summary>Every cell, built-in ones first in a stable order, then registered ones in registration order.</summary>
    public static IReadOnlyList<CellInfo> All { get { lock (Gate) return infos.ToArray(); } }

    /// <summary>Every name, in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Names => All.Select(i => i.Name).ToArray();

    /// <summary>Whether <paramref name="name"/> is known (case-insensitive, surrounding spaces ignored).</summary>
    public static bool Contains(string? name) => TryFind(name) is not null;

    /// <summary>The entry of <paramref name="name"/>; an unknown name gets an error listing the valid ones.</summary>
    public static CellInfo Find(string? name) =>
        TryFind(name) ?? throw new ArgumentException($"Unknown cell '{name}'. Valid cells: {string.Join(", ", Names)}.");

    private static CellInfo? TryFind(string? name)
    {
        string key = name?.Trim() ?? "";
        lock (Gate) return infos.FirstOrDefault(i => i.Name.Equals(key, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A cell of the named kind; <paramref name="forgetBias"/> only for cells that accept one.</summary>
    public static RecurrentCell<T> Create<T>(string name, int inputSize, int hiddenSize, Rng rng, double? forgetBias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var info = Find(name);
        if (forgetBias is not null && !info.AcceptsForgetBias)
            throw new ArgumentException($"CellRegistry: a forget-gate bias applies to cells with a forget gate of their own, not to '{info.Name}'.");
        CellFactory<T>? factory;
        lock (Gate) Factories<T>.ByName.TryGetValue(info.Name, out factory);
        if (factory is null)
            throw new ArgumentException($"CellRegistry: '{info.Name}' was registered without a factory for {typeof(T).Name}; register one to use it in that precision.");
        return factory(inputSize, hiddenSize, rng, forgetBias);
    }

    /// <summary>
    /// Adds a cell under <paramref name="name"/> (lower case letters, digits, '-' and '_'; not taken) with a factory for
    /// double and optionally one for float. The factory is called once at registration (input 1, hidden 1) to read the
    /// state names and whether the cell is linear in its state.
    /// </summary>
    public static CellInfo Register(string name, string description, CellFactory<double> makeDouble, CellFactory<float>? makeFloat = null, bool acceptsForgetBias = false)
    {
        ArgumentNullException.ThrowIfNull(makeDouble);
        if (string.IsNullOrWhiteSpace(name) || !name.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '-' or '_'))
            throw new ArgumentException($"CellRegistry.Register: the name '{name}' must be non-empty lower-case letters, digits, '-' or '_'.");
        var info = Describe(name, description, acceptsForgetBias, builtIn: false, makeDouble);
        lock (Gate)
        {
            if (infos.Any(i => i.Name == name))
                throw new ArgumentException($"CellRegistry.Register: '{name}' is already registered. Taken: {string.Join(", ", infos.Select(i => i.Name))}.");
            infos.Add(info);
            Factories<double>.ByName[name] = makeDouble;
            if (makeFloat is not null) Factories<float>.ByName[name] = makeFloat;
        }
        return info;
    }

    private static CellInfo Describe(string name, string description, bool acceptsForgetBias, bool builtIn, CellFactory<double> make)
    {
        var probe = make(1, 1, new Rng(0), null);
        return new CellInfo(name, probe.Kind, description, probe.StateNames, probe is LinearRecurrentCell<double>, acceptsForgetBias, builtIn);
    }

    /// <summary>The built-in cells, written once for both element types.</summary>
    private static (string Name, string Description, bool AcceptsForgetBias, CellFactory<T> Make)[] BuiltIns<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
    [
        ("rnn", "Elman RNN, tanh (Elman 1990)", false, (i, h, r, _) => new ElmanCell<T>(i, h, r)),
        ("rnn-relu", "Elman RNN, ReLU", false, (i, h, r, _) => new ElmanCell<T>(i, h, r, ElmanActivation.Relu)),
        ("irnn", "ReLU RNN with identity recurrent weights (Le et al. 2015)", false, (i, h, r, _) => ElmanCell<T>.Irnn(i, h, r)),
        ("lstm", "LSTM as PyTorch's nn.LSTM, no peepholes (Hochreiter and Schmidhuber 1997; Gers et al. 2000)", true, (i, h, r, fb) => new LstmCell<T>(i, h, r, fb)),
        ("gru", "GRU as PyTorch's nn.GRU (Cho et al. 2014)", false, (i, h, r, _) => new GruCell<T>(i, h, r)),
        .. LstmVariant.Greff.Select(v => ("lstm-" + v.Name.ToLowerInvariant(), $"Greff et al. 2017 variant {v.Name}", v.GateLayout.Contains('f'),
            (CellFactory<T>)((i, h, r, fb) => new LstmVariantCell<T>(v, i, h, r, fb)))),
        ("indrnn", "IndRNN, one recurrent weight per unit, ReLU (Li et al. 2018)", false, (i, h, r, _) => new IndRnnCell<T>(i, h, r)),
        ("janet", "JANET, forget-gate-only LSTM with chrono initialisation (van der Westhuizen and Lasenby 2018)", false, (i, h, r, _) => new JanetCell<T>(i, h, r)),
        ("mingru", "minGRU, gates from the input only, trains by a parallel scan (Feng et al. 2024)", false, (i, h, r, _) => new MinGruCell<T>(i, h, r)),
        ("slstm", "sLSTM, exponential gating with normaliser and stabiliser states (Beck et al. 2024, xLSTM)", false, (i, h, r, _) => new SlstmCell<T>(i, h, r)),
        ("mlstm", "mLSTM, matrix memory with covariance update, stepped (Beck et al. 2024, xLSTM)", false, (i, h, r, _) => new MlstmCell<T>(i, h, r)),
        ("minlstm", "minLSTM, normalised forget and input gates from the input only, trains by a parallel scan (Feng et al. 2024)", false, (i, h, r, _) => new MinLstmCell<T>(i, h, r)),
        ("lru", "Linear Recurrent Unit, complex diagonal recurrence with exponential parametrisation, stepped (Orvieto et al. 2023)", false, (i, h, r, _) => new LruCell<T>(i, h, r)),
    ];

    /// <summary>The factories of one element type by name: the built-ins, then whatever <see cref="Register"/> adds (under <see cref="Gate"/>).</summary>
    private static class Factories<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly Dictionary<string, CellFactory<T>> ByName = BuiltIns<T>().ToDictionary(b => b.Name, b => b.Make);
    }
}
