namespace AutoDiffLstm.Tests.Kernels;

/// <summary>The persistent workers behind parallel products: every part runs exactly once, whoever calls and however often.</summary>
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

    [Fact]
    public void JobsSeparatedByPausesLongerThanTheSpinStillRun()
    {
        // Workers block after SpinMicroseconds; the next job must wake them.
        for (int job = 0; job < 5; job++)
        {
            Thread.Sleep(2);
            int sum = 0;
            WorkerTeam.Run(3, p => Interlocked.Add(ref sum, p + 1));
            Assert.Equal(6, sum);
        }
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
    public void JobsArrivingJustAsWorkersFallAsleepAreNotLost()
    {
        // A job started while a worker is deciding to block must wake it. Pauses straddle the worker's spin deadline,
        // so many jobs land in that window; a lost wake-up leaves Run spinning forever, which the watchdog reports.
        // (Before the fence in Worker.Loop this hung within a few thousand jobs on an AMD EPYC.)
        int done = 0;
        var loop = new Thread(() =>
        {
            var spin = System.Diagnostics.Stopwatch.Frequency / 1_000_000.0;
            for (int job = 0; job < 3000; job++)
            {
                long pause = (long)((WorkerTeam.SpinMicroseconds - 60 + job % 120) * spin);
                long until = System.Diagnostics.Stopwatch.GetTimestamp() + pause;
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
                WorkerTeam.Run(2, _ => { });
                done = job + 1;
            }
        }) { IsBackground = true };
        loop.Start();
        Assert.True(loop.Join(TimeSpan.FromSeconds(60)), $"WorkerTeam.Run never returned after job {Volatile.Read(ref done)} of 3000.");
    }
}
