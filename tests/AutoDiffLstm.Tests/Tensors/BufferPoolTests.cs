namespace AutoDiffLstm.Tests.Tensors;

/// <summary>
/// The per-thread pool of free tensor buffers: exact lengths (code relies on Data.Length being the tensor's size),
/// reuse of what was given back, zeroing on request, one pool per thread, NaN poisoning in anomaly mode.
/// </summary>
public class BufferPoolTests
{
    [Fact]
    public void RentGivesExactLengthsAndReusesWhatWasReturned()
    {
        Tape.ClearBufferPool();
        var a = BufferPool<double>.Rent(37);
        Assert.Equal(37, a.Length);
        BufferPool<double>.Return(a);
        Assert.True(BufferPool<double>.Contains(a));
        Assert.Equal(37 * sizeof(double), BufferPool<double>.RetainedBytes);
        Assert.Equal(36, BufferPool<double>.Rent(36).Length); // a shorter request never gets the longer array
        Assert.Same(a, BufferPool<double>.Rent(37));
        Assert.False(BufferPool<double>.Contains(a));
        Assert.Equal(0, BufferPool<double>.RetainedBytes);
        Assert.Empty(BufferPool<double>.Rent(0));
    }

    [Fact]
    public void InUseCountsWhatIsOutAndThePeakItReached()
    {
        Tape.ClearBufferPool();
        long start = BufferPool<double>.InUseBytes;
        BufferPool<double>.ResetPeak();
        var a = BufferPool<double>.Rent(10);
        var b = BufferPool<double>.RentZeroed(30);
        Assert.Equal(start + 40 * sizeof(double), BufferPool<double>.InUseBytes);
        BufferPool<double>.Return(b);
        var c = BufferPool<double>.Rent(30); // from the pool: still counted as out again
        Assert.Same(b, c);
        BufferPool<double>.Return(a);
        BufferPool<double>.Return(c);
        Assert.Equal(start, BufferPool<double>.InUseBytes);
        Assert.Equal(start + 40 * sizeof(double), BufferPool<double>.PeakInUseBytes);
        var d = BufferPool<double>.Rent(5);
        Tape.ClearBufferPool(); // the pool's free arrays go, but d is still out
        Assert.Equal(start + 5 * sizeof(double), BufferPool<double>.InUseBytes);
        BufferPool<double>.ResetPeak();
        Assert.Equal(BufferPool<double>.InUseBytes, BufferPool<double>.PeakInUseBytes);
        BufferPool<double>.Return(d);
        Assert.Equal(start, BufferPool<double>.InUseBytes);
    }

    [Fact]
    public void RentZeroedClearsARecycledArray()
    {
        Tape.ClearBufferPool();
        var a = BufferPool<float>.Rent(9);
        a.AsSpan().Fill(3f);
        BufferPool<float>.Return(a);
        var b = BufferPool<float>.RentZeroed(9);
        Assert.Same(a, b);
        Assert.All(b, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void EachThreadHasItsOwnPool()
    {
        Tape.ClearBufferPool();
        var mine = BufferPool<double>.Rent(123);
        BufferPool<double>.Return(mine);
        double[]? theirs = null;
        bool theySeeMine = true;
        var thread = new Thread(() =>
        {
            theySeeMine = BufferPool<double>.Contains(mine);
            theirs = BufferPool<double>.Rent(123);
        });
        thread.Start();
        thread.Join();
        Assert.False(theySeeMine);
        Assert.NotSame(mine, theirs);
        Assert.True(BufferPool<double>.Contains(mine)); // the other thread's rent did not take it
    }

    [Fact]
    public void AnomalyModeFillsReturnedArraysWithNaN()
    {
        // Debug builds always poison; anomaly mode does it in every build, which is what this checks.
        var a = BufferPool<double>.Rent(20);
        a.AsSpan().Fill(1.5);
        using (Autograd.DetectAnomaly()) BufferPool<double>.Return(a);
        Assert.All(a, v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void ClearDropsEveryFreeArrayOfTheThread()
    {
        var a = BufferPool<float>.Rent(5);
        BufferPool<float>.Return(a);
        Tape.ClearBufferPool();
        Assert.False(BufferPool<float>.Contains(a));
        Assert.Equal(0, Tape.PooledBytes);
    }
}

/// <summary>Changes the process-wide pool limit, so it runs alone (other tests would merely pool less meanwhile).</summary>
[Collection(nameof(BufferPoolLimitCollection))]
public class BufferPoolLimitTests
{
    [Fact]
    public void ArraysBeyondTheLimitAreLeftToTheGarbageCollector()
    {
        long saved = Tape.BufferPoolLimitBytes;
        Tape.ClearBufferPool();
        try
        {
            Tape.BufferPoolLimitBytes = 100 * sizeof(double);
            var a = BufferPool<double>.Rent(60);
            var b = BufferPool<double>.Rent(60);
            BufferPool<double>.Return(a);
            BufferPool<double>.Return(b); // 120 elements would exceed the limit of 100
            Assert.True(BufferPool<double>.Contains(a));
            Assert.False(BufferPool<double>.Contains(b));
            Assert.Equal(60 * sizeof(double), BufferPool<double>.RetainedBytes);
        }
        finally
        {
            Tape.BufferPoolLimitBytes = saved;
            Tape.ClearBufferPool();
        }
    }
}

[CollectionDefinition(nameof(BufferPoolLimitCollection), DisableParallelization = true)]
public class BufferPoolLimitCollection;
