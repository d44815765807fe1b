namespace AutoDiffLstm;

/// <summary>How many cores the toolkit may use: the counterpart of <c>torch.set_num_threads</c>.</summary>
/// <remarks>
/// Matrix products are split over up to this many threads, and only those large enough that every thread gets at least
/// 2M multiply-adds (smaller ones measured slower when shared); so are the fused groups of a compiled sequence that hold
/// at least 32K values per step; every other kernel runs on the calling thread. In a compiled sequence's backward, a
/// recurrent weight's gradient product that would be split runs instead on a second thread beside the chain of steps
/// (a side job), one at a time and in order. Papers,
/// which train many independent runs, train this many at a time. Results are bit-identical whatever the setting. Lower
/// it when several experiments share the machine.
/// </remarks>
public static class Parallelism
{
    private static int maxThreads = Environment.ProcessorCount;

    /// <summary>Threads the toolkit may use, the calling thread included (default: <see cref="Environment.ProcessorCount"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public static int MaxThreads
    {
        get => maxThreads;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"Parallelism.MaxThreads must be at least 1 (the calling thread), got {value}. This machine has {Environment.ProcessorCount} processors.");
            maxThreads = value;
        }
    }
}
