using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Kernels;

/// <summary>
/// The packed-operand cache: inside a scope, a product whose B is a parameter reuses B's packed form. It must give the
/// same bits as packing every time (the packed values are the same, only where they come from changes), on every
/// layout the cache introduces (several depth blocks, column blocks wider than NC, ragged last slivers), and it must
/// never serve a stale copy: not after the scope, not after the array went back to the buffer pool.
/// </summary>
public class PackedOperandsTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 64, 2048, 512 },      // W1's recurrent product, one depth block short of two
        { 8, 130, 300 },        // two depth blocks (KC = 256), ragged last sliver
        { 13, 4096 + 40, 17 },  // more columns than one NC block
        { 2, 5, 3 },            // tiny: a single edge tile (cached: two rows through the row kernel)
        { 2, 130, 300 },        // two rows through the row kernel, two depth blocks, ragged last group: the tile's bits
        { 288, 70, 260 },       // the largest row count that still uses the cache
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CachedPackingGivesTheSameBitsAsPackingEveryTime(int m, int n, int k)
    {
        ulong seed = 40;
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                var f = new GemmCase<float>(m, n, k, transA, transB, accumulate: true, 1, 3, 2, seed++);
                var d = new GemmCase<double>(m, n, k, transA, transB, accumulate: false, 0, 5, 0, seed++);
                var (plainF, plainD) = (f.Run(), d.Run());
                using (PackedOperands.Open())
                {
                    // Twice: the first call packs and keeps, the second reads the kept copy.
                    Assert.Equal(plainF, f.RunAndCheck(constantB: true));
                    Assert.Equal(plainF, f.Run(constantB: true));
                    Assert.Equal(plainD, d.RunAndCheck(constantB: true));
                    Assert.Equal(plainD, d.Run(constantB: true));
                }
                Assert.Equal(0, PackedOperands.Count);
            }
    }

    /// <summary>
    /// A single row times a parameter (batch-1 recurrences) runs its own kernel: four column slivers at a time, then
    /// slivers one by one, columns past n dropped. Checked against the double reference, with the elements of C outside
    /// the product untouched; with a kept operand (twice: packing, then reading the kept copy) it gives the bits it gives
    /// without one.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(256, 64)]      // W4's per-step forward product (4H x H)
    [InlineData(64, 256)]      // and its backward dh product
    [InlineData(130, 300)]     // two depth blocks, ragged last sliver
    [InlineData(4 * 32 + 1, 9)] // one full group of four float slivers and one column more
    [InlineData(3 * 32, 9)]    // a short group only
    public void ASingleRowMatchesTheReferenceWithOrWithoutAKeptOperand(int n, int k)
    {
        ulong seed = 60;
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                var f = new GemmCase<float>(1, n, k, transA, transB, accumulate: true, 2, 1, 3, seed++);
                var d = new GemmCase<double>(1, n, k, transA, transB, accumulate: false, 0, 4, 1, seed++);
                // Outside a scope the parameter is packed for this product alone.
                var (plainF, plainD) = (f.RunAndCheck(constantB: true), d.RunAndCheck(constantB: true));
                using (PackedOperands.Open())
                {
                    Assert.Equal(plainF, f.RunAndCheck(constantB: true));
                    Assert.Equal(plainF, f.RunAndCheck(constantB: true));
                    Assert.Equal(plainD, d.RunAndCheck(constantB: true));
                    Assert.Equal(plainD, d.RunAndCheck(constantB: true));
                    Assert.Equal(2, PackedOperands.Count);
                }
            }
    }

    [Fact]
    public void OnlyConstantOperandsInsideAScopeAreKept()
    {
        var c = new GemmCase<double>(16, 40, 30, false, true, accumulate: false, 0, 0, 0, 7);
        c.Run(constantB: true);
        Assert.Equal(0, PackedOperands.Count); // no scope
        using (PackedOperands.Open())
        {
            c.Run(constantB: false);
            Assert.Equal(0, PackedOperands.Count);
            c.Run(constantB: true);
            c.Run(constantB: true);
            Assert.Equal(1, PackedOperands.Count);
            using (PackedOperands.Open()) c.Run(constantB: true);
            Assert.Equal(1, PackedOperands.Count); // the inner scope neither repacks nor releases
            new GemmCase<double>(300, 40, 30, false, true, accumulate: false, 0, 0, 0, 8).Run(constantB: true);
            Assert.Equal(1, PackedOperands.Count); // many rows amortise packing: not worth a copy
        }
        Assert.Equal(0, PackedOperands.Count);
    }

    [Fact]
    public void AnArrayGivenBackToThePoolLosesItsPackedCopy()
    {
        var b = BufferPool<double>.Rent(30 * 40);
        for (int i = 0; i < b.Length; i++) b[i] = i % 7;
        var a = Enumerable.Range(0, 16 * 30).Select(i => (double)(i % 5)).ToArray();
        var c = new double[16 * 40];
        using (PackedOperands.Open())
        {
            Gemm.Run(a, 0, false, b, 0, false, c, 0, 16, 40, 30, accumulate: false, constantB: true);
            Assert.Equal(1, PackedOperands.Count);
            BufferPool<double>.Return(b);
            Assert.Equal(0, PackedOperands.Count);
            // Rented again for other contents: the product sees them.
            var again = BufferPool<double>.Rent(30 * 40);
            again.AsSpan().Fill(1);
            Gemm.Run(a, 0, false, again, 0, false, c, 0, 16, 40, 30, accumulate: false, constantB: true);
            for (int j = 0; j < 40; j++) Assert.Equal(a.AsSpan(0, 30).ToArray().Sum(), c[j]);
        }
    }

    [Fact]
    public void AWeightChangedBetweenPassesIsSeenByTheNextPass()
    {
        // Unroll and backward each pack W_hh once; an optimizer step between passes writes the weights in place.
        var rng = new Rng(3);
        var layer = RecurrentLayer.Lstm<double>(6, 40, rng);
        var x = Tensor.RandomNormal<double>(rng, [5, 3, 6]);
        layer.Forward(x).Output.Sum().Backward();
        var weightHh = layer.NamedParameters().Single(p => p.Key == "weight_hh_l0").Value;
        foreach (ref var w in weightHh.AsWritableSpan()) w *= -0.5;
        var after = layer.Forward(x).Output.ToArray();

        var fresh = RecurrentLayer.Lstm<double>(6, 40, new Rng(99));
        foreach (var (name, p) in layer.NamedParameters())
            p.AsSpan().CopyTo(fresh.NamedParameters().Single(q => q.Key == name).Value.AsWritableSpan());
        Assert.Equal(fresh.Forward(x).Output.ToArray(), after);
        Assert.Equal(0, PackedOperands.Count);
    }
}

/// <summary>The cache with the products split over threads (by columns for few rows): still the single-threaded bits.</summary>
[Collection(GemmThreadsCollection.Name)]
public class PackedOperandsThreadingTests
{
    [Theory]
    [InlineData(64, 2048, 512)]
    [InlineData(32, 1024 + 24, 300)]
    [InlineData(288, 512, 64)]
    public void CachedProductsSplitOverThreadsAreBitIdentical(int m, int n, int k)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            var c = new GemmCase<float>(m, n, k, false, true, accumulate: true, 0, 0, 0, 77);
            Parallelism.MaxThreads = 1;
            var single = c.Run();
            Parallelism.MaxThreads = 2;
            using (PackedOperands.Open())
            {
                Assert.Equal(single, c.RunAndCheck(constantB: true));
                Assert.Equal(single, c.Run(constantB: true));
            }
        }
        finally { Parallelism.MaxThreads = saved; }
    }
}
