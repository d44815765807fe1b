using System.Diagnostics;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// `--paired`: the floor fraction of our compiled LSTM (the products-only row's time over the iteration's) measured in one
/// process with the two runs alternating: per round, the floor for a while, ours for as long, the floor again, and the
/// round's fraction is the mean of the two floor readings over ours. Prints every round, the median and the range.
/// </summary>
/// <remarks>
/// Why beside the BenchmarkDotNet rows: on the project's VMs the machine changes speed for seconds at a time (the same
/// iteration runs 25-40 % slower in a slow phase), and BenchmarkDotNet measures one row after the other, so the two rows
/// of one fraction often land in different phases (single readings of W3's fraction ranged 50-81 %). Alternating within
/// a round puts both in the same phase; what remains is how the fraction itself depends on the phase, which the rounds
/// show. Not a BenchmarkDotNet measurement: no outlier removal, no statistics beyond the median.
/// </remarks>
internal static class PairedFloorFraction
{
    private const int Rounds = 9;

    public static int Run()
    {
        Console.WriteLine($"CPU: {MachinePeak.CpuName()}, {Environment.ProcessorCount} logical cores; {Rounds} rounds per case, each floor / ours / floor");
        foreach (var workload in Selection.Workloads)
            foreach (int threads in Selection.Threads)
                Measure(workload, threads);
        return 0;
    }

    private static void Measure(Workload workload, int threads)
    {
        int saved = Parallelism.MaxThreads;
        Parallelism.MaxThreads = threads;
        try
        {
            using var ours = OurTrainingStep.Create(CellKind.Lstm, workload);
            using var floor = ProductsOnlyStep.Create(workload);
            // Warm up (JIT tiers, packed weights, pooled buffers) and size each half-round to at least half a second
            // and three iterations.
            for (int i = 0; i < 3; i++) { ours.Run(); floor.Run(); }
            double seconds = Math.Max(0.5, 3 * Time(ours, 0));
            var fractions = new List<double>();
            Console.WriteLine($"{workload} ({WorkloadShape.Of(workload)}), {threads} thread(s):");
            for (int r = 0; r < Rounds; r++)
            {
                double before = Time(floor, seconds), ourTime = Time(ours, seconds), after = Time(floor, seconds);
                double fraction = (before + after) / 2 / ourTime;
                fractions.Add(fraction);
                Console.WriteLine($"  round {r + 1}: floor {Ms(before)} and {Ms(after)}, ours {Ms(ourTime)}: {fraction:P1}");
            }
            fractions.Sort();
            Console.WriteLine($"  median {fractions[Rounds / 2]:P1} (range {fractions[0]:P1} to {fractions[^1]:P1})");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    // Seconds per iteration over at least `seconds` (one iteration when 0).
    private static double Time(ITrainingStep step, double seconds)
    {
        var clock = Stopwatch.StartNew();
        int n = 0;
        do { step.Run(); n++; } while (clock.Elapsed.TotalSeconds < seconds);
        return clock.Elapsed.TotalSeconds / n;
    }

    private static string Ms(double seconds) => $"{seconds * 1e3:F3} ms";
}
