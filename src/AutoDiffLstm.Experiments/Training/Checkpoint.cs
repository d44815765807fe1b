using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Training;

/// <summary>
/// A training checkpoint is ONE safetensors file (written atomically) holding the model's parameters under their
/// PyTorch names, the optimizer's state under "optimizer.*", the run's history so far under "history.*" (always F64:
/// steps [n, 5] = step, loss, gradient norm, learning rate, seconds; evaluations [m, 3] = step, loss, accuracy or NaN),
/// and in its metadata the options and the number of completed steps; a readable copy of the options is written next
/// to it as <c>{path}.json</c>. Restoring validates every name, shape and element type first and changes nothing if
/// anything is off. The history makes a resumed run's results and figures cover the whole run, not only its last part.
/// <para>
/// Integrity: the metadata key <c>sha256</c> holds a JSON object mapping every tensor's name to the SHA-256 of its
/// data bytes (little-endian, as stored), so bytes damaged inside the tensor data (which the format itself cannot
/// notice: any bit pattern is a valid float) are refused with the name of the tensor. Files of the first format
/// (<c>autodifflstm-checkpoint-1</c>, written before checksums existed) carry none; they are still read, unverified,
/// because refusing them would strand every earlier run; a format-2 file without its checksums is refused.
/// </para>
/// </summary>
public static class Checkpoint
{
    private const string Format = "autodifflstm-checkpoint-2";
    // Format 1: no checksums, options serialised with .NET's default (PascalCase) names.
    private const string FormatWithoutChecksums = "autodifflstm-checkpoint-1";
    private const string ChecksumKey = "sha256";

    internal static void Save<T>(string path, Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string options = ResultFiles.ToJson(trainer.Options);
        var (stepHistory, evalHistory) = History(trainer.Result());
        var tensors = new List<KeyValuePair<string, TensorBase>>([.. Tensors(trainer), new(StepHistory, stepHistory), new(EvalHistory, evalHistory)]);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["options"] = options,
            ["completed_steps"] = trainer.CompletedSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["dtype"] = typeof(T) == typeof(float) ? "float" : "double",
            [ChecksumKey] = JsonSerializer.Serialize(tensors.ToDictionary(t => t.Key, t => Sha256(t.Value))),
        };
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        Safetensors.Save(path, tensors, metadata);
        AtomicFile.WriteAllText(path + ".json", ResultFiles.ToJson(new { completed_steps = trainer.CompletedSteps, options = trainer.Options }));
    }

    /// <summary>
    /// The checkpoint a --resume argument names: the file itself, or a directory holding <see cref="DefaultName"/>
    /// (what a run's --out contains). Anything else is returned unchanged for <see cref="ReadHeader"/> to refuse precisely.
    /// </summary>
    public static string Locate(string path) =>
        Directory.Exists(path) && File.Exists(Path.Combine(path, DefaultName)) ? Path.Combine(path, DefaultName) : path;

    /// <summary>The options, completed steps and element type ("float" or "double") stored in a checkpoint.</summary>
    public static (TrainingOptions Options, int CompletedSteps, string ElementType) ReadHeader(string path)
    {
        if (Directory.Exists(path))
            throw new FileNotFoundException(
                $"--resume '{path}' is a directory without a checkpoint ({DefaultName}); give a checkpoint file, or the --out directory of the run that wrote it.", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var contents = Safetensors.Load(path);
        var meta = contents.Metadata;
        if (!meta.TryGetValue("format", out var format) || format is not (Format or FormatWithoutChecksums) || !meta.TryGetValue("options", out var json)
            || !meta.TryGetValue("completed_steps", out var done) || !meta.TryGetValue("dtype", out var dtype) || dtype is not ("float" or "double"))
            throw new InvalidDataException($"'{path}' is a safetensors file but not an AutoDiffLstm checkpoint (its metadata lacks format '{Format}', options, completed_steps or dtype).");
        VerifyChecksums(path, meta, contents.Tensors);
        TrainingOptions options;
        try
        {
            options = (format == Format ? ResultFiles.FromJson<TrainingOptions>(json) : JsonSerializer.Deserialize<TrainingOptions>(json))
                ?? throw new JsonException("null options");
        }
        catch (JsonException e) { throw new InvalidDataException($"Checkpoint '{path}': the stored options cannot be read ({e.Message}).", e); }
        if (!int.TryParse(done, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int completed))
            throw new InvalidDataException($"Checkpoint '{path}': completed_steps '{done}' is not a non-negative integer.");
        if (completed > options.Steps)
            throw new InvalidDataException($"Checkpoint '{path}': completed_steps {completed} exceeds the run's {options.Steps} steps.");
        try { options.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"Checkpoint '{path}': the stored options are not valid ({e.Message})", e); }
        return (options, completed, dtype);
    }

    /// <summary>Whether the checkpoint was trained in double.</summary>
    public static bool IsDouble(string path) => ReadHeader(path).ElementType == "double";

    internal static (TrainingOptions Options, int Completed) Read<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (options, completed, dtype) = ReadHeader(path);
        string expected = typeof(T) == typeof(float) ? "float" : "double";
        if (dtype != expected) throw new InvalidDataException($"Checkpoint '{path}' was trained in {dtype}, not {expected}.");
        return (options, completed);
    }

    /// <summary>
    /// Copies the checkpoint's tensors into <paramref name="trainer"/>, all or nothing: everything is first read into
    /// copies and checked (names, shapes and element types by <see cref="Safetensors.LoadInto"/>, then the optimizer's
    /// step counts against <paramref name="completedSteps"/>), and only then written into the trainer's tensors.
    /// </summary>
    internal static void Restore<T>(string path, Trainer<T> trainer, int completedSteps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var targets = Tensors(trainer).ToArray();
        var staged = targets.Select(t => new KeyValuePair<string, TensorBase>(t.Key, ((Tensor<T>)t.Value).Clone())).ToList();
        // The history's lengths are whatever the file says (checked below); everything else must match the trainer.
        var stored = Safetensors.Load(path).Tensors;
        int HistoryRows(string name, int columns) =>
            stored.TryGetValue(name, out var t) && t.Rank == 2 && t.Shape[1] == columns ? t.Shape[0] : 0;
        var stepHistory = Tensor.Zeros<double>(HistoryRows(StepHistory, 5), 5);
        var evalHistory = Tensor.Zeros<double>(HistoryRows(EvalHistory, 3), 3);
        staged.Add(new(StepHistory, stepHistory));
        staged.Add(new(EvalHistory, evalHistory));
        Safetensors.LoadInto(path, staged);
        VerifyChecksums(path, Safetensors.Load(path).Metadata, staged.ToDictionary(t => t.Key, t => t.Value));

        var counts = ((Tensor<T>)staged[targets.Length - 1].Value).ToArray().Select(double.CreateChecked).ToArray();
        // The optimizer steps once per completed step (a diverged step throws before the update); a parameter is
        // updated at most that often.
        if (counts[^1] != completedSteps || counts.Any(c => !(c >= 0 && c <= completedSteps && c == Math.Floor(c))))
            throw new InvalidDataException($"Checkpoint '{path}': the optimizer's step counts [{string.Join(", ", counts)}] do not match completed_steps {completedSteps}; the file is corrupt.");
        var (steps, evaluations) = ReadHistory(path, stepHistory, evalHistory, completedSteps);

        for (int i = 0; i < targets.Length - 1; i++)
            ((Tensor<T>)staged[i].Value).AsSpan().CopyTo(((Tensor<T>)targets[i].Value).AsWritableSpan());
        trainer.Optimizer.SetStepCounts((Tensor<T>)staged[targets.Length - 1].Value);
        trainer.RestoreHistory(steps, evaluations, completedSteps);
    }

    private const string StepHistory = "history.steps", EvalHistory = "history.evaluations";

    /// <summary>The file name the command line gives a checkpoint inside its output directory.</summary>
    public const string DefaultName = "checkpoint.safetensors";

    /// <summary>Lower-case hex SHA-256 of a tensor's elements as little-endian bytes (the bytes safetensors stores).</summary>
    internal static string Sha256(TensorBase tensor)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Checkpoint checksums assume a little-endian machine.");
        ReadOnlySpan<byte> bytes = tensor switch
        {
            Tensor<float> f => MemoryMarshal.AsBytes(f.AsSpan()),
            Tensor<double> d => MemoryMarshal.AsBytes(d.AsSpan()),
            _ => throw new ArgumentException($"Checkpoint: a tensor of type {tensor.GetType().Name} cannot be checksummed."),
        };
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>Refuses a file whose tensors' data do not match the checksums its metadata stores, naming the first that differs.</summary>
    private static void VerifyChecksums(string path, IReadOnlyDictionary<string, string> metadata, IReadOnlyDictionary<string, TensorBase> tensors)
    {
        if (metadata.GetValueOrDefault("format") == FormatWithoutChecksums) return;
        Dictionary<string, string>? sums = null;
        try { if (metadata.TryGetValue(ChecksumKey, out var text)) sums = JsonSerializer.Deserialize<Dictionary<string, string>>(text); }
        catch (JsonException) { }
        if (sums is null)
            throw new InvalidDataException($"Checkpoint '{path}': its metadata lacks a readable '{ChecksumKey}' entry (the SHA-256 of every tensor), which format {Format} requires; the file is damaged.");
        foreach (var (name, tensor) in tensors)
        {
            if (!sums.TryGetValue(name, out var expected))
                throw new InvalidDataException($"Checkpoint '{path}': tensor '{name}' has no stored SHA-256; the file is damaged.");
            string actual = Sha256(tensor);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"Checkpoint '{path}': the data of tensor '{name}' does not match its stored SHA-256 (stored {expected[..Math.Min(12, expected.Length)]}..., computed {actual[..12]}...); the file is corrupt. Resume from an earlier copy or start again.");
        }
    }

    private static (Tensor<double> Steps, Tensor<double> Evaluations) History(TrainingResult result)
    {
        var steps = Tensor.Zeros<double>(result.Steps.Count, 5);
        var span = steps.AsWritableSpan();
        for (int i = 0; i < result.Steps.Count; i++)
        {
            var s = result.Steps[i];
            (span[5 * i], span[5 * i + 1], span[5 * i + 2], span[5 * i + 3], span[5 * i + 4]) = (s.Step, s.Loss, s.GradNorm, s.LearningRate, s.Seconds);
        }
        var evaluations = Tensor.Zeros<double>(result.Evaluations.Count, 3);
        var e = evaluations.AsWritableSpan();
        for (int i = 0; i < result.Evaluations.Count; i++)
        {
            var r = result.Evaluations[i];
            (e[3 * i], e[3 * i + 1], e[3 * i + 2]) = (r.Step, r.Loss, r.Accuracy ?? double.NaN);
        }
        return (steps, evaluations);
    }

    /// <summary>The stored history, which must be one record per completed step, numbered 1, 2, ..., and evaluations in step order.</summary>
    private static (StepRecord[] Steps, EvalRecord[] Evaluations) ReadHistory(string path, Tensor<double> stepHistory, Tensor<double> evalHistory, int completed)
    {
        var s = stepHistory.ToArray();
        var steps = new StepRecord[stepHistory.Shape[0]];
        for (int i = 0; i < steps.Length; i++) steps[i] = new StepRecord((int)s[5 * i], s[5 * i + 1], s[5 * i + 2], s[5 * i + 3], s[5 * i + 4]);
        if (steps.Length != completed || steps.Where((r, i) => r.Step != i + 1 || s[5 * i] != i + 1).Any())
            throw new InvalidDataException($"Checkpoint '{path}': {StepHistory} holds {steps.Length} records that are not the steps 1 to {completed}; the file is corrupt.");
        var e = evalHistory.ToArray();
        var evaluations = new EvalRecord[evalHistory.Shape[0]];
        for (int i = 0; i < evaluations.Length; i++)
            evaluations[i] = new EvalRecord((int)e[3 * i], e[3 * i + 1], double.IsNaN(e[3 * i + 2]) ? null : e[3 * i + 2]);
        if (evaluations.Where((r, i) => r.Step != e[3 * i] || r.Step < 0 || r.Step > completed || (i > 0 && r.Step < evaluations[i - 1].Step)).Any())
            throw new InvalidDataException($"Checkpoint '{path}': {EvalHistory} is not a sequence of evaluations at steps 0 to {completed}; the file is corrupt.");
        return (steps, evaluations);
    }

    /// <summary>Parameters, optimizer state, and last the optimizer's step counts (a copy, not shared storage).</summary>
    private static IEnumerable<KeyValuePair<string, TensorBase>> Tensors<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (name, p) in trainer.Model.NamedParameters()) yield return new(name, p);
        foreach (var (name, s) in trainer.Optimizer.StateTensors()) yield return new("optimizer." + name, s);
        yield return new("optimizer.step_counts", trainer.Optimizer.StepCountsTensor());
    }
}
