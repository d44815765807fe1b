using System.Diagnostics;

namespace AutoDiffLstm;

/// <summary>
/// Runs the parts of one parallel kernel on the calling thread and on persistent worker threads that stay awake
/// (spinning) for a short while after each job, so that the many mid-size products of a recurrence (tens of
/// microseconds each, separated by elementwise work) do not each pay a thread wake-up.
/// </summary>
/// <remarks>
/// Why not <see cref="Parallel.For(int, int, Action{int})"/>: between two per-step products the thread pool's workers go
/// back to sleep, and waking one costs about as much as the product it would share (measured at W2: two threads were
/// slower than one). OpenMP runtimes, which libtorch uses, keep their workers spinning for the same reason. Workers here
/// spin for <see cref="SpinMicroseconds"/> after their last job, then block; they are background threads. One job at a
/// time: a kernel started while another thread's job is running simply runs all its parts on its own thread (the results
/// do not depend on how the parts are shared out).
/// </remarks>
internal static class WorkerTeam
{
    /// <summary>How long an idle worker keeps polling for the next job before it blocks.</summary>
    public const int SpinMicroseconds = 500;

    private static readonly object Gate = new();
    private static readonly List<Worker> Workers = [];
    private static Action<int>? job;
    private static int pending;
    private static Exception? failure;

    /// <summary>
    /// Runs <paramref name="body"/>(0..parts-1): part 0 on the calling thread, the others on workers. Every part runs
    /// even if one fails; a failure is then thrown as an <see cref="AggregateException"/>, whichever thread ran the part.
    /// </summary>
    public static void Run(int parts, Action<int> body)
    {
        if (parts <= 1 || Monitor.IsEntered(Gate) || !Monitor.TryEnter(Gate)) // nested, or another thread's job is running
        {
            RunInline(parts, body);
            return;
        }
        try
        {
            while (Workers.Count < parts - 1) Workers.Add(new Worker(Workers.Count + 1));
            job = body;
            failure = null;
            Volatile.Write(ref pending, parts - 1);
            for (int i = 0; i < parts - 1; i++) Workers[i].Start();
            try { body(0); }
            catch (Exception thrown) { failure = thrown; } // reported below, once the workers are done with this job
            var spin = new SpinWait();
            while (Volatile.Read(ref pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
            job = null;
            if (failure is { } e) throw new AggregateException("A parallel kernel part failed.", e);
        }
        finally { Monitor.Exit(Gate); }
    }

    /// <summary>All parts on the calling thread, failing the way a shared job does (the caller cannot tell which ran).</summary>
    private static void RunInline(int parts, Action<int> body)
    {
        Exception? first = null;
        for (int i = 0; i < parts; i++)
        {
            try { body(i); }
            catch (Exception e) { first ??= e; }
        }
        if (first is not null) throw new AggregateException("A parallel kernel part failed.", first);
    }

    private sealed class Worker
    {
        private readonly int part;
        private readonly SemaphoreSlim wake = new(0);
        private int generation;   // incremented by Start, read by the worker
        private int sleeping;     // 1 while the worker is (about to be) blocked on wake

        public Worker(int part)
        {
            this.part = part;
            new Thread(Loop) { IsBackground = true, Name = $"AutoDiffLstm worker {part}" }.Start();
        }

        public void Start()
        {
            Interlocked.Increment(ref generation);
            if (Interlocked.Exchange(ref sleeping, 0) == 1) wake.Release();
        }

        private void Loop()
        {
            int seen = 0;
            while (true)
            {
                // Poll for a while, then block until Start releases us (a spurious release just loops).
                long deadline = Stopwatch.GetTimestamp() + SpinMicroseconds * Stopwatch.Frequency / 1_000_000;
                while (Volatile.Read(ref generation) == seen && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(20);
                if (Volatile.Read(ref generation) == seen)
                {
                    // A full fence between announcing sleep and re-reading the generation (Start does the mirror image:
                    // increment, then exchange). With a plain store the x86 store buffer lets the read overtake it: the
                    // worker would miss the new job while Start saw it awake, and the job would wait forever.
                    Interlocked.Exchange(ref sleeping, 1);
                    if (Volatile.Read(ref generation) == seen) wake.Wait();
                    Volatile.Write(ref sleeping, 0);
                    continue;
                }
                seen = Volatile.Read(ref generation);
                try { job!(part); }
                catch (Exception e) { failure = e; }
                finally { Interlocked.Decrement(ref pending); }
            }
        }
    }
}
