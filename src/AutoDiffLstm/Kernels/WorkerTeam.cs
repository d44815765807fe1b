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
/// time: a kernel started while another thread's job is running simply runs all its parts on its own thread. Parts are
/// claimed, not assigned, so the caller also takes the parts of workers that have not woken yet. Results never depend
/// on which thread ran which part.
/// </remarks>
internal static class WorkerTeam
{
    /// <summary>How long an idle worker keeps polling for the next job before it blocks.</summary>
    /// <remarks>
    /// Waking a blocked worker costs the caller about 18 us (the futex wake and the inter-processor interrupt, on the
    /// project's VMs) and the worker 60-100 us before it runs: a 4.2M-multiply-add product that takes 40 us on two warm
    /// threads and 50 on one took 84 us when it had to wake the worker. With a 500 us spin, a recurrence whose split
    /// products are further apart than that (the hoisted products at each end of a pass with small per-step products)
    /// paid it every time; at 5 ms the same product after a 1 or 5 ms pause took 41-44 us (2026-12-03). OpenMP runtimes
    /// spin far longer by default (Intel's 200 ms).
    /// </remarks>
    public const int SpinMicroseconds = 5000;

    private static readonly object Gate = new();
    private static readonly List<Worker> Workers = [];
    private static readonly Job Current = new();

    /// <summary>
    /// Runs <paramref name="body"/>(0..parts-1), each part exactly once, on the calling thread and on workers: whoever
    /// is free claims the next part, so a worker that wakes late (a blocked thread takes 60-100 us to wake on the
    /// project's VMs, as long as a 4M-multiply-add product) leaves its part to the caller instead of holding up the job.
    /// Every part runs even if one fails; a failure is then thrown as an <see cref="AggregateException"/>, whichever
    /// thread ran the part.
    /// </summary>
    public static void Run(int parts, Action<int> body) => Run(parts, parts, body);

    /// <summary>
    /// <see cref="Run(int, Action{int})"/> on at most <paramref name="threads"/> threads (the caller and threads - 1
    /// workers), for more parts than threads: each thread claims the next part when it finishes one, so a thread that
    /// runs slower (on these VMs one virtual core streams memory about a quarter slower than the other) takes fewer.
    /// </summary>
    public static void Run(int threads, int parts, Action<int> body)
    {
        threads = Math.Min(threads, parts);
        if (threads <= 1 || onSideLane || Monitor.IsEntered(Gate) || !Monitor.TryEnter(Gate)) // nested, a side job, or another thread's job is running
        {
            RunInline(parts, body);
            return;
        }
        try
        {
            while (Workers.Count < threads - 1) Workers.Add(new Worker(Workers.Count + 1));
            Current.Begin(body, parts);
            for (int i = 0; i < threads - 1; i++) Workers[i].Start();
            Current.Work();
            var spin = new SpinWait();
            while (!Current.Finished) spin.SpinOnce(sleep1Threshold: -1); // parts that workers claimed are still running
            if (Current.Failure is { } e) throw new AggregateException("A parallel kernel part failed.", e);
        }
        finally { Monitor.Exit(Gate); }
    }

    /// <summary>
    /// Hands <paramref name="job"/> to the first worker, which runs it alone (its products on that thread only) while the
    /// caller goes on; false, and nothing posted, when there is no second thread, the worker already has a side job (any
    /// caller's), or another thread's parallel job holds the team. The caller waits for it with
    /// <see cref="SideJob.Wait"/>. Meanwhile the caller's own parallel kernels run their parts on the caller's thread, and
    /// the worker joins them once the side job is done.
    /// </summary>
    /// <remarks>
    /// For work that does not depend on what the caller does next: a recurrence's weight-gradient products, which split
    /// over two threads run at 1.4 times one thread's speed at W1 (B = 64, H = 512), alongside the chain of per-step
    /// products and kernels that each step of backward waits on. The job object is the caller's and reusable, so posting
    /// allocates nothing; several callers (runs trained side by side) each wait on their own.
    /// </remarks>
    public static bool TryPostSideJob(SideJob job)
    {
        if (Parallelism.MaxThreads < 2 || onSideLane || job.IsPending || Monitor.IsEntered(Gate) || !Monitor.TryEnter(Gate)) return false;
        try
        {
            if (Interlocked.CompareExchange(ref sideBusy, 1, 0) != 0) return false;
            if (Workers.Count == 0) Workers.Add(new Worker(1));
            Interlocked.Increment(ref sideJobsPosted);
            job.MarkPosted();
            Volatile.Write(ref sideWork, job);
            Workers[0].Start();
            return true;
        }
        finally { Monitor.Exit(Gate); }
    }

    /// <summary>Whether this thread is running a side job (its kernels then use this thread only).</summary>
    public static bool OnSideLane => onSideLane;

    /// <summary>Side jobs posted since the process started (tests check that a path they exercise really posts one).</summary>
    internal static long SideJobsPosted => Interlocked.Read(ref sideJobsPosted);

    private static long sideJobsPosted;
    [ThreadStatic] private static bool onSideLane;
    private static SideJob? sideWork;   // posted, not yet taken by the worker
    private static int sideBusy;        // 1 from posting until the worker has run the side job

    /// <summary>Runs the posted side job, if there is one (on the first worker).</summary>
    private static void RunSideJob()
    {
        if (Interlocked.Exchange(ref sideWork, null) is not { } job) return;
        onSideLane = true;
        Exception? failure = null;
        try { job.Run(); }
        catch (Exception e) { failure = e; }
        finally { onSideLane = false; }
        Volatile.Write(ref sideBusy, 0);   // free for the next post before the poster learns this one is done
        job.Complete(failure);
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

    /// <summary>
    /// The parts of the current call, claimed one at a time. One object serves every call (a fresh one per call was
    /// most of what a parallel product allocated): the claim counter shares a word with the call's ticket, so a worker
    /// that looked at an earlier call, or woke after it finished, fails its compare-and-swap instead of claiming a part
    /// of the next call under the old call's count.
    /// </summary>
    private sealed class Job
    {
        private const long Closed = int.MaxValue;   // the claim count while a call is being set up: nothing to claim

        private long state;                // (ticket << 32) | parts claimed
        private int parts, completed;
        private Action<int>? body;
        private Exception? failure;

        public bool Finished => Volatile.Read(ref completed) == parts;
        public Exception? Failure => Volatile.Read(ref failure);

        /// <summary>Sets up the next call (the caller holds the gate, and the previous call has finished).</summary>
        public void Begin(Action<int> work, int count)
        {
            long ticket = (Volatile.Read(ref state) >> 32) + 1;
            // Closed first, with a full fence: a claim under the old ticket fails before body and parts change.
            Interlocked.Exchange(ref state, ticket << 32 | Closed);
            (body, parts, failure) = (work, count, null);
            Volatile.Write(ref completed, 0);
            Interlocked.Exchange(ref state, ticket << 32); // open: publishes body and parts with it
        }

        /// <summary>Runs unclaimed parts until none is left.</summary>
        public void Work()
        {
            while (true)
            {
                long seen = Volatile.Read(ref state);
                var (work, count) = (body, parts);   // read after the state: this call's, or the CAS below fails
                int part = (int)(seen & uint.MaxValue);
                if (part >= count) return;
                if (Interlocked.CompareExchange(ref state, seen + 1, seen) != seen) continue; // claimed by another, or a new call
                try { work!(part); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
                finally { Interlocked.Increment(ref completed); }
            }
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim wake = new(0);
        private int generation;   // incremented by Start, read by the worker
        private int sleeping;     // 1 while the worker is (about to be) blocked on wake

        public Worker(int number)
        {
            new Thread(Loop) { IsBackground = true, Name = $"AutoDiffLstm worker {number}" }.Start();
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
                    // worker would block through the new job while Start saw it awake (the caller would then run every
                    // part itself, and keep doing so until some later Start found the worker asleep).
                    Interlocked.Exchange(ref sleeping, 1);
                    if (Volatile.Read(ref generation) == seen) wake.Wait();
                    Volatile.Write(ref sleeping, 0);
                    continue;
                }
                seen = Volatile.Read(ref generation);
                RunSideJob();
                Current.Work(); // fully claimed when the job finished before this worker woke
            }
        }
    }
}
