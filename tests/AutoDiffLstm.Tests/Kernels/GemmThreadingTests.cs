using System.Numerics;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>Tests that change the process-wide Parallelism.MaxThreads, or need the worker team to themselves, run alone, after every parallel test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GemmThreadsCollection
{
    public const string Name = "Parallelism.MaxThreads";
}

/// <summary>
/// Large products split their rows over threads; every output element must still be reduced in the same order, so the
/// result is bit-identical whatever Parallelism.MaxThreads is, and every row is computed whatever the row count.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class GemmThreadingTests
{
    private static T[] RunWith<T>(int threads, GemmCase<T> c, bool check) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            // The premise of every test here: the product is really shared out over that many threads.
            Assert.Equal(threads, Gemm.ThreadsFor(c.M, c.N, c.K));
            return check ? c.RunAndCheck() : c.Run();
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Theory]
    [InlineData(256, 300, 280)]   // split by rows
    [InlineData(8, 1024, 1024)]   // split by columns
    public void ABiasRowGivesTheSameBitsOnOneOrTwoThreads(int m, int n, int k)
    {
        var c = new GemmCase<float>(m, n, k, false, true, accumulate: false, 1, 2, 3, 5);
        var bias = c.A.AsSpan(0, n).ToArray();
        float[] Biased(int threads)
        {
            var got = (float[])c.C.Clone();
            got.AsSpan(c.COff, m * n).Fill(float.NaN);
            int saved = Parallelism.MaxThreads;
            try
            {
                Parallelism.MaxThreads = threads;
                Assert.Equal(threads, Gemm.ThreadsFor(m, n, k));
                Gemm.Run(c.A, c.AOff, false, c.B, c.BOff, true, got, c.COff, m, n, k, accumulate: false, bias: bias);
            }
            finally { Parallelism.MaxThreads = saved; }
            return got;
        }
        var filled = (float[])c.C.Clone();
        AutoDiffLstm.Kernels.RepeatRows<float>(bias, filled.AsSpan(c.COff, m * n));
        Gemm.Run(c.A, c.AOff, false, c.B, c.BOff, true, filled, c.COff, m, n, k, accumulate: true);
        Assert.Equal(filled, Biased(1));
        Assert.Equal(filled, Biased(2));
    }

    [Theory]
    [InlineData(256, 300, 280)]   // split by rows
    [InlineData(8, 1024, 1024)]   // few rows: split by columns (a recurrence's per-step product)
    public void AProductSharedOutOverThreadsAllocatesNothing(int m, int n, int k)
    {
        // A closure and a job object per call were most of what a W1/W2 training iteration allocated.
        var c = new GemmCase<float>(m, n, k, false, true, accumulate: false, 1, 2, 3, 4);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 2;
            Assert.Equal(2, Gemm.ThreadsFor(m, n, k));
            void Product() => Gemm.Run(c.A, c.AOff, c.TransA, c.B, c.BOff, c.TransB, c.C, c.COff, m, n, k, accumulate: false);
            for (int i = 0; i < 5; i++) Product();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) Product();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(bytes == 0, $"20 products on two threads allocated {bytes:N0} bytes");
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void LargeProductIsBitIdenticalWithOneOrTwoThreads(bool transA, bool transB)
    {
        var d = new GemmCase<double>(256, 300, 280, transA, transB, accumulate: true, 1, 2, 3, 21);
        // The single-threaded result is checked against the naive loop elsewhere on the same code path (sizes up to 520).
        Assert.Equal(RunWith(1, d, check: false), RunWith(2, d, check: false));
        var f = new GemmCase<float>(256, 300, 280, transA, transB, accumulate: false, 0, 0, 0, 22);
        Assert.Equal(RunWith(1, f, check: false), RunWith(2, f, check: false));
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    public void ALargeBPackedOnceByTheThreadsGivesTheBitsOfOneThread(bool transB, int threads)
    {
        // B of 300 x 1100 (two depth blocks, columns that are not whole slivers) is packed once, in blocks shared out
        // over the threads, and the rows are claimed in blocks; the single-threaded product packs it as it goes.
        var f = new GemmCase<float>(300, 1100, 300, false, transB, accumulate: true, 1, 2, 3, 51);
        Assert.Equal(RunWith(1, f, check: true), RunWith(threads, f, check: true));
        var d = new GemmCase<double>(290, 1030, 270, true, transB, accumulate: false, 0, 1, 2, 52);
        Assert.Equal(RunWith(1, d, check: true), RunWith(threads, d, check: true));
    }

    [Theory]
    [InlineData(9, 2)]
    [InlineData(13, 3)]
    [InlineData(17, 2)]
    [InlineData(30, 4)]
    [InlineData(257, 2)]
    [InlineData(259, 7)]
    public void EveryRowIsComputedWhenRowsDoNotDivideEvenlyAmongThreads(int m, int threads)
    {
        // n * k = 560,000 gives every thread here a share large enough to be split off, so the product takes the parallel
        // path (by columns while there are fewer than two row tiles per thread, by rows beyond).
        var c = new GemmCase<double>(m, 800, 700, false, false, accumulate: false, 0, 0, 4, (ulong)m);
        Assert.Equal(RunWith(1, c, check: false), RunWith(threads, c, check: true));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void FewRowsSplitByColumnsAndStayBitIdentical(bool transA, bool transB)
    {
        // The per-step product of a recurrence: 8 rows, so the threads share out the columns (and the packing of B).
        var f = new GemmCase<float>(8, 2048 + 40, 512, transA, transB, accumulate: true, 0, 3, 0, 31);
        Assert.Equal(RunWith(1, f, check: true), RunWith(2, f, check: true));
        var d = new GemmCase<double>(12, 1000, 600, transA, transB, accumulate: false, 2, 0, 1, 32);
        Assert.Equal(RunWith(1, d, check: true), RunWith(3, d, check: true));
    }

    [Theory]
    [InlineData(8, 32, 8)]       // W3's per-step weight gradient, dgates^T h
    [InlineData(800, 128, 32)]   // W3's hoisted input projection over all T * B rows
    [InlineData(64, 256, 64)]    // B = 64, H = 64: the per-step product
    public void ProductsTooSmallToShareStayOnTheCallingThread(int m, int n, int k)
    {
        // Splitting these made the iterations that run them slower than one thread (see Gemm.MinMacsPerThread).
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 2;
            Assert.Equal(1, Gemm.ThreadsFor(m, n, k));
            Parallelism.MaxThreads = 64;
            Assert.Equal(1, Gemm.ThreadsFor(m, n, k));
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Fact]
    public void LargerProductsUseMoreThreadsUpToTheLimit()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 2;
            Assert.Equal(2, Gemm.ThreadsFor(32, 1024, 256));  // W2's per-step product, 8.4M multiply-adds
            Parallelism.MaxThreads = 16;
            Assert.Equal(4, Gemm.ThreadsFor(32, 1024, 256));  // each share keeps at least 2M
            Assert.Equal(16, Gemm.ThreadsFor(1024, 1024, 1024));
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.MaxThreads = 0);
            Assert.Contains("Parallelism.MaxThreads must be at least 1", e.Message);
            Assert.Equal(16, Parallelism.MaxThreads); // the bad value was not taken
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Fact]
    public void ReadingAInPlaceOrPackedGivesTheSameBits()
    {
        // One thread: all columns, so A is packed. Two threads split the columns, and each share is narrow enough (on
        // AVX-512: at most two column slivers) for the kernel to read A where it lies. Same FMAs in the same order.
        foreach (bool transA in new[] { false, true })
        {
            var f = new GemmCase<float>(40, 100, 1100, transA, false, accumulate: true, 1, 0, 2, 41);
            Assert.Equal(RunWith(1, f, check: true), RunWith(2, f, check: true));
            var d = new GemmCase<double>(40, 60, 1800, transA, true, accumulate: false, 0, 3, 0, 42);
            Assert.Equal(RunWith(1, d, check: true), RunWith(2, d, check: true));
        }
    }
}
