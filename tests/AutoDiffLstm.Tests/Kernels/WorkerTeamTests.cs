namespace AutoDiffLstm.Tests.Kernels;

/// <summary>The persistent workers behind parallel products: every part runs exactly once, whoever calls and however often.</summary>
/// <remarks>
/// In the collection that runs alone: whether a job gets the team or runs inline depends on what else is running, and
/// these tests decide that themselves.
/// </remarks>
[Collection(GemmThreadsCollection.Name)]
public class WorkerTeamTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void EveryPartRunsExactlyOnceInManyBackToBackJobs(int parts)
    {
        for (int job = 0; job < 300; job++)
        {
            var counts = new int[parts];
            WorkerTeam.Run(parts, p => Interlocked.Increment(ref counts[p]));
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    [Theory]
    [InlineData(2, 9)]
    [InlineData(1, 4)]
    [InlineData(3, 2)]
    public void MorePartsThanThreadsRunEachPartOnceOnAtMostThatManyThreads(int threads, int parts)
    {
        // Parts are claimed as threads free up: a slow part's thread takes fewer; no thread beyond the limit joins.
        for (int job = 0; job < 100; job++)
        {
            var counts = new int[parts];
            var ran = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
            WorkerTeam.Run(threads, parts, p =>
            {
                ran[Environment.CurrentManagedThreadId] = true;
                Thread.SpinWait(p == 0 ? 20_000 : 2_000); // long parts, the first longest: the others go to whoever is free
                Interlocked.Increment(ref counts[p]);
            });
            Assert.All(counts, c => Assert.Equal(1, c));
            Assert.InRange(ran.Count, 1, Math.Min(threads, parts));
        }
    }

    [Fact]
    public void JobsOfChangingSizeBackToBackRunEachPartOnce()
    {
        // One job object serves every call: a worker still looking at a call of 7 parts must not claim part 3 of the
        // next call of 2 (nor of the following 7 under the old count). Parts record which call ran them.
        int[] sizes = [7, 2, 5, 1, 7, 3];
        for (int job = 0; job < 600; job++)
        {
            int parts = sizes[job % sizes.Length];
            var counts = new int[8];
            WorkerTeam.Run(parts, p => Interlocked.Increment(ref counts[p]));
            for (int p = 0; p < counts.Length; p++) Assert.Equal(p < parts ? 1 : 0, counts[p]);
        }
    }

    [Fact]
    public void AJobAllocatesNothing()
    {
        int sum = 0;
        Action<int> body = p => Interlocked.Add(ref sum, p);
        for (int i = 0; i < 10; i++) WorkerTeam.Run(2, body);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) WorkerTeam.Run(2, body);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(110, sum);
    }

    [Fact]
    public void JobsSeparatedByPausesLongerThanTheSpinStillRun()
    {
        // Workers block after SpinMicroseconds; the next job must wake them.
        for (int job = 0; job < 5; job++)
        {
            Thread.Sleep(WorkerTeam.SpinMicroseconds / 1000 + 2);
            int sum = 0;
            WorkerTeam.Run(3, p => Interlocked.Add(ref sum, p + 1));
            Assert.Equal(6, sum);
        }
    }

    [Fact]
    public void TheCallerTakesThePartsOfWorkersThatHaveNotWokenYet()
    {
        // After a pause longer than the spin, the worker is blocked and takes tens of microseconds to wake: the caller
        // claims the other part of a tiny job first. With parts assigned to threads (part 0 to the caller, always) the
        // caller would never run two parts, and a late worker would hold up every such job.
        int callerRanBoth = 0;
        for (int job = 0; job < 20; job++)
        {
            Thread.Sleep(WorkerTeam.SpinMicroseconds / 1000 + 2);
            var caller = Environment.CurrentManagedThreadId;
            var ranBy = new int[2];
            WorkerTeam.Run(2, p => ranBy[p] = Environment.CurrentManagedThreadId);
            if (ranBy[0] == caller && ranBy[1] == caller) callerRanBoth++;
        }
        Assert.True(callerRanBoth > 0, "in 20 jobs after a pause the caller never ran the sleeping worker's part");
    }

    [Fact]
    public void ANestedJobRunsOnTheCallingThread()
    {
        var counts = new int[2 * 3];
        WorkerTeam.Run(2, outer => WorkerTeam.Run(3, inner => Interlocked.Increment(ref counts[outer * 3 + inner])));
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void JobsFromSeveralThreadsAtOnceAllComplete()
    {
        var totals = new long[4];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int job = 0; job < 200; job++) WorkerTeam.Run(2, p => Interlocked.Add(ref totals[t], p + 1));
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.All(totals, total => Assert.Equal(200 * 3, total));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void AFailingPartIsReportedToTheCaller(int failing)
    {
        var e = Assert.Throws<AggregateException>(() => WorkerTeam.Run(2, p => { if (p == failing) throw new InvalidOperationException($"part {p}"); }));
        Assert.Contains($"part {failing}", e.InnerException!.Message);
        int ran = 0;
        WorkerTeam.Run(2, p => Interlocked.Increment(ref ran)); // the team still works afterwards
        Assert.Equal(2, ran);
    }

    [Fact]
    public void WhileAnotherThreadsJobRunsAFailureIsReportedTheSameWayAndEveryPartRuns()
    {
        // Another thread holds the team (both its parts wait), so this job runs inline on the calling thread: callers
        // must not see a different exception type, or fewer parts run, depending on who else is busy.
        using var release = new ManualResetEventSlim();
        using var started = new CountdownEvent(2);
        var other = new Thread(() => WorkerTeam.Run(2, _ => { started.Signal(); release.Wait(); })) { IsBackground = true };
        other.Start();
        try
        {
            Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the other thread's job never started");
            var ran = new int[3];
            var e = Assert.Throws<AggregateException>(() => WorkerTeam.Run(3, p =>
            {
                Interlocked.Increment(ref ran[p]);
                if (p == 0) throw new InvalidOperationException("part 0");
            }));
            Assert.Contains("part 0", e.InnerException!.Message);
            Assert.All(ran, r => Assert.Equal(1, r));
        }
        finally
        {
            release.Set();
            other.Join();
        }
    }

    [Fact]
    public void JobsArrivingJustAsWorkersFallAsleepAreNotLost()
    {
        // A job started while a worker is deciding to block. Pauses straddle the worker's spin deadline, so many jobs
        // land in that window; every one must complete (the watchdog reports a hang). Before the fence in Worker.Loop,
        // when each part was assigned to one thread, a lost wake-up hung Run within a few thousand jobs on an AMD EPYC (with the 500 us spin of the time);
        // since parts are claimed, the caller would run a sleeping worker's part itself.
        int done = 0;
        var loop = new Thread(() =>
        {
            var spin = System.Diagnostics.Stopwatch.Frequency / 1_000_000.0;
            for (int job = 0; job < 800; job++)
            {
                long pause = (long)((WorkerTeam.SpinMicroseconds - 60 + job % 120) * spin);
                long until = System.Diagnostics.Stopwatch.GetTimestamp() + pause;
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
                WorkerTeam.Run(2, _ => { });
                done = job + 1;
            }
        }) { IsBackground = true };
        loop.Start();
        Assert.True(loop.Join(TimeSpan.FromSeconds(60)), $"WorkerTeam.Run never returned after job {Volatile.Read(ref done)} of 800.");
    }

    private static T WithThreads<T>(int threads, Func<T> body)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            return body();
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    private sealed class ActionJob(Action work) : SideJob
    {
        public override void Run() => work();
    }

    [Fact]
    public void ASideJobRunsOnAnotherThreadWhileTheCallerGoesOn()
    {
        for (int round = 0; round < 200; round++)
        {
            int caller = Environment.CurrentManagedThreadId, ranOn = 0, threadsInside = 0;
            using var release = new ManualResetEventSlim();
            var job = new ActionJob(() =>
            {
                release.Wait();   // only the caller can let it finish: it must be running elsewhere
                ranOn = Environment.CurrentManagedThreadId;
                threadsInside = Gemm.ThreadsFor(1024, 1024, 1024);
            });
            Assert.True(WithThreads(2, () => WorkerTeam.TryPostSideJob(job)));
            Assert.True(job.IsPending);
            // One side job at a time, whoever posts it; and the caller's own jobs still run every part meanwhile.
            Assert.False(WithThreads(2, () => WorkerTeam.TryPostSideJob(new ActionJob(() => { }))));
            var counts = new int[4];
            WithThreads(2, () => { WorkerTeam.Run(4, p => Interlocked.Increment(ref counts[p])); return 0; });
            Assert.All(counts, c => Assert.Equal(1, c));
            release.Set();
            job.Wait();
            Assert.False(job.IsPending);
            Assert.NotEqual(caller, ranOn);
            Assert.Equal(1, threadsInside);   // a product inside a side job keeps to its thread
        }
    }

    [Fact]
    public void OnOneThreadNothingIsPostedAndTheCallerRunsTheWorkItself()
    {
        bool ran = false;
        var job = new ActionJob(() => ran = true);
        Assert.False(WithThreads(1, () => WorkerTeam.TryPostSideJob(job)));
        job.Wait();   // never posted: returns at once
        Assert.False(ran);
    }

    [Fact]
    public void ASideJobsFailureIsThrownByItsOwnWaitOnly()
    {
        var failing = new ActionJob(() => throw new InvalidOperationException("side job test"));
        Assert.True(WithThreads(2, () => WorkerTeam.TryPostSideJob(failing)));
        while (failing.IsPending) Thread.Yield();
        // Another caller's job posted after it neither sees nor clears that failure.
        var other = new ActionJob(() => { });
        Assert.True(WithThreads(2, () => WorkerTeam.TryPostSideJob(other)));
        other.Wait();
        var e = Assert.Throws<AggregateException>(() => failing.Wait());
        Assert.Equal("side job test", Assert.IsType<InvalidOperationException>(e.InnerException).Message);
        failing.Wait();   // reported once: the next wait has nothing to throw
        // A wait that only makes sure the job is over (a pass being unwound) discards it.
        var ignored = new ActionJob(() => throw new InvalidOperationException("ignored"));
        Assert.True(WithThreads(2, () => WorkerTeam.TryPostSideJob(ignored)));
        ignored.Wait(rethrow: false);
        ignored.Wait();
    }

    [Fact]
    public void CallersOnSeveralThreadsEachGetTheirOwnJobsRunOnce()
    {
        // Runs trained side by side post side jobs at the same time: each is run once (on the worker, or by its caller
        // when the worker is taken), and each caller waits only for its own.
        int saved = Parallelism.MaxThreads;
        Parallelism.MaxThreads = 2;
        try
        {
            var totals = new long[3];
            var callers = Enumerable.Range(0, 3).Select(c => new Thread(() =>
            {
                for (int i = 0; i < 2000; i++)
                {
                    var job = new ActionJob(() => Interlocked.Increment(ref totals[c]));
                    if (WorkerTeam.TryPostSideJob(job)) job.Wait();
                    else job.Run();
                }
            })).ToArray();
            foreach (var t in callers) t.Start();
            foreach (var t in callers) Assert.True(t.Join(TimeSpan.FromSeconds(60)));
            Assert.All(totals, n => Assert.Equal(2000, n));
        }
        finally { Parallelism.MaxThreads = saved; }
    }
}
