using System.Globalization;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// `--memory`: what one training iteration of our models keeps, against the memory targets (steady-state iterations
/// allocate almost nothing; the peak storage of an iteration stays within 2x of the activations the tape must keep).
/// Deterministic counts, not timings, so one pass per row is enough; printed as a Markdown table.
/// </summary>
/// <remarks>
/// Activations: bytes of forward values the tape holds for backward when forward ends (<see cref="Tape.ActivationBytes"/>).
/// Peak storage: the most tensor storage in use at one moment of a steady-state iteration: the rise of the pool's
/// in-use count above its value when the iteration starts (<see cref="Tape.StorageInUseBytes"/>), plus what stays in
/// use throughout (the leaves' gradients and the stacks of gathered weight-gradient rows). Retained: everything the
/// engine keeps after the iteration (<see cref="Tape.RetainedBufferBytes"/>; under <see cref="Tape.ReuseBuffers"/> every
/// array the iteration used is back in the pool by then, so this is an upper bound of the peak that needs no counting)
/// plus the leaves' gradients. Runs on one thread, since every thread has its own pool. Allocated: managed bytes per
/// steady-state iteration (the tensor objects; MemoryDiagnoser measures the same in the benchmark run).
/// </remarks>
internal static class MemoryReport
{
    /// <summary>Checkpoint interval of the extra W4 row: about sqrt(T) for T = 1000.</summary>
    private const int CheckpointEvery = 32;

    public static int Run()
    {
        int threads = Parallelism.MaxThreads;
        Parallelism.MaxThreads = 1;
        try
        {
            Console.WriteLine("| workload | model | activations kept | peak storage | peak / activations | retained after the iteration (bound) | allocated per iteration | gen0 / gen1 / gen2 GCs per 100 iterations |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var workload in Selection.Workloads)
            {
                foreach (var kind in Enum.GetValues<CellKind>()) Print(workload, kind, 0);
                if (workload == Workload.W4) Print(workload, CellKind.Lstm, CheckpointEvery);
            }
            Console.WriteLine("(one thread; peak = the most storage in use at once during a steady-state iteration, leaves' gradients and weight-gradient stacks included; retained = the pool and stacks after it + the leaves' gradients)");
            return 0;
        }
        finally
        {
            Parallelism.MaxThreads = threads;
        }
    }

    private static void Print(Workload workload, CellKind kind, int checkpointEvery)
    {
        var row = Measure(workload, kind, checkpointEvery);
        string model = checkpointEvery > 0 ? $"{kind}, checkpoint every {checkpointEvery}" : kind.ToString();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {workload} | {model} | {Megabytes(row.Activations)} | {Megabytes(row.Peak)} | {(double)row.Peak / row.Activations:F2} | {Megabytes(row.Retained)} | " +
            $"{row.AllocatedPerIteration / 1024.0:F0} KB | {row.Gen0Per100:F1} / {row.Gen1Per100:F1} / {row.Gen2Per100:F1} |"));
    }

    private static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):F2} MB");

    internal readonly record struct Row(long Activations, long Peak, long Retained, long AllocatedPerIteration, double Gen0Per100, double Gen1Per100, double Gen2Per100);

    /// <summary>The memory of a steady-state iteration of one model, measured on the calling thread from an empty pool.</summary>
    internal static Row Measure(Workload workload, CellKind kind, int checkpointEvery, int? iterations = null)
    {
        Tape.ClearBufferPool();
        using var step = OurTrainingStep.CreateMeasurable(kind, workload, checkpointEvery: checkpointEvery);
        step.Run(); // fills the pool; the next iterations take everything from it
        long activations = step.RunReportingActivations();
        long start = Tape.StorageInUseBytes;
        Tape.ResetPeakStorage();
        step.Run();
        long retained = Tape.RetainedBufferBytes;
        // The leaves' gradients and the stacks were in use before the iteration began, and stay so.
        long peak = Tape.PeakStorageInUseBytes - start + step.LeafGradientBytes + WeightGradientBatch.RetainedBytes;

        int n = iterations ?? workload switch { Workload.W1 => 3, Workload.W2 => 10, Workload.W3 => 200, _ => 20 };
        var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < n; i++) step.Run();
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / n;
        double Per100(int now, int then) => 100.0 * (now - then) / n;
        var row = new Row(activations, peak, retained + step.LeafGradientBytes, allocated,
            Per100(GC.CollectionCount(0), gcBefore.Item1), Per100(GC.CollectionCount(1), gcBefore.Item2), Per100(GC.CollectionCount(2), gcBefore.Item3));
        if (Tape.RetainedBufferBytes != retained)
            Console.Error.WriteLine($"memory: {workload} {kind}: the engine's buffers grew from {retained:N0} to {Tape.RetainedBufferBytes:N0} bytes after the second iteration; the peak above is not a steady state's");
        Tape.ClearBufferPool();
        return row;
    }
}
