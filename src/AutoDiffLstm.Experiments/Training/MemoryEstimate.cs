using System.Globalization;
using System.Numerics;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Experiments.Training;

/// <summary>
/// What a training run will need in memory, estimated before it starts so that a run that cannot fit is refused at
/// once instead of being killed after minutes (at T = 100,000 an LSTM's tape alone is tens of gigabytes).
/// </summary>
/// <remarks>
/// The activations the tape keeps are linear in steps x sequences for a given hidden size, and linear in the hidden
/// size for a given cell (every gate is elementwise over H). Rather than a hand-written table per cell (which every
/// new cell would have to extend), the estimate <b>measures</b> the tape of the real model on two tiny probes (two
/// task lengths at hidden sizes 4 and 8, a few milliseconds) and extrapolates those lines to the run's T, B, H.
/// With gradient checkpointing the tape keeps what the segments store (measured the same way, with segments of 2) plus,
/// during backward, one recomputed segment of k steps. The peak of a step is taken as twice the activations (the
/// measured peak / activations ratio of the project's workloads is 1.4-1.9: gradients and intermediates of backward),
/// plus five copies of the parameters (weights, gradients, two optimizer moments, a gradient stack), plus the data.
/// Evaluation runs without the tape, a training batch of sequences at a time, so it needs less than a step.
/// </remarks>
public sealed record MemoryEstimate(long ActivationBytes, long ParameterBytes, long DataBytes)
{
    /// <summary>The estimated peak of a training step, evaluation included.</summary>
    public long TotalBytes => 2 * ActivationBytes + 5 * ParameterBytes + DataBytes;

    /// <summary>Estimates the memory of training with <paramref name="options"/> (float or double as they say); resets the calling thread's tape.</summary>
    public static MemoryEstimate Of(TrainingOptions options) =>
        options.Double ? Of<double>(options) : Of<float>(options);

    private static MemoryEstimate Of<T>(TrainingOptions o) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = typeof(T) == typeof(float) ? 4 : 8;
        var task = TaskRegistry.Create<T>(o.Task, o.SequenceLength);
        long steps = task.Steps;
        const int probeBatch = 2;
        // Two short lengths the task accepts; their difference isolates the per-step bytes from the constant ones.
        int probe = Math.Max(8, task.MinimumSequenceLength);
        var (shortTask, longTask) = (TaskRegistry.Create<T>(o.Task, probe), TaskRegistry.Create<T>(o.Task, probe + 8));
        double PerStep(int hidden, int checkpointEvery)
        {
            var (a1, s1) = Probe(o, shortTask, hidden, probeBatch, checkpointEvery);
            var (a2, s2) = Probe(o, longTask, hidden, probeBatch, checkpointEvery);
            return Math.Max(0, (double)(a2 - a1) / ((s2 - s1) * probeBatch));
        }
        // Bytes per step and sequence at hidden size H, from the line through H = 4 and H = 8.
        double Line(int checkpointEvery)
        {
            double at4 = PerStep(4, checkpointEvery), at8 = PerStep(8, checkpointEvery);
            return Math.Max(at4, at4 + (at8 - at4) / 4 * (o.Hidden - 4));
        }
        double full = Line(0) * steps * o.Batch;
        double activations = full;
        if (o.GradientCheckpoint != 0)
        {
            long k = o.GradientCheckpoint > 0 ? o.GradientCheckpoint : (long)Math.Ceiling(Math.Sqrt(steps));
            activations = Math.Min(full, Line(2) * steps * o.Batch + Line(0) * Math.Min(k, steps) * o.Batch);
        }
        // Parameter count is a quadratic in H (weights H x H and H x I, biases H): exact through three sizes.
        double p4 = Parameters<T>(o, task, 4), p8 = Parameters<T>(o, task, 8), p12 = Parameters<T>(o, task, 12);
        double a = (p12 - 2 * p8 + p4) / 32, b = (p8 - p4) / 4 - 12 * a, c = p4 - 4 * b - 16 * a;
        double parameters = (a * o.Hidden * o.Hidden + b * o.Hidden + c) * size;
        // The held-out batch is kept as data; a training batch is drawn every step.
        double data = (double)(o.EvalBatch + o.Batch) * steps * task.InputSize * size;
        return new MemoryEstimate(Saturate(activations), Saturate(parameters), Saturate(data));
    }

    private static long Saturate(double bytes) => bytes >= long.MaxValue / 8 ? long.MaxValue / 8 : (long)Math.Ceiling(bytes);

    /// <summary>The tape's activation bytes after one forward pass of the loss, and the probe's number of steps.</summary>
    private static (long Bytes, int Steps) Probe<T>(TrainingOptions o, ISequenceTask<T> task, int hidden, int batch, int checkpointEvery)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = Model(o, task, hidden);
        model.CheckpointEvery = checkpointEvery;
        var data = task.NextBatch(new Rng(2), batch);
        // The calling thread's tape is reset before and after: estimate before training, not inside a step.
        var tape = Tape.Current;
        tape.Reset();
        model.Loss(task, data);
        long bytes = tape.ActivationBytes();
        tape.Reset();
        return (bytes, data.Steps);
    }

    private static double Parameters<T>(TrainingOptions o, ISequenceTask<T> task, int hidden) where T : unmanaged, IFloatingPointIeee754<T> =>
        Model(o, task, hidden).Parameters().Sum(p => (double)p.Size);

    private static SequenceModel<T> Model<T>(TrainingOptions o, ISequenceTask<T> task, int hidden) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(o.Seed);
        var layer = CellCatalog.Layer<T>(o.Cell, task.InputSize, hidden, rng.Fork(), o.Layers, o.Residual, o.ForgetBias);
        return new SequenceModel<T>(layer, task.OutputSize, rng.Fork());
    }

    /// <summary>Bytes the process may still use: the lower of the runtime's limit (container limits included) and the system's available memory.</summary>
    public static long AvailableBytes()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                    return Math.Min(limit, kb * 1024 + GC.GetTotalMemory(false));
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return limit;
    }

    /// <summary>Bytes in words: "1.5 GiB", "320 MiB".</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 40 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 40):0.#} TiB"),
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
    };
}
