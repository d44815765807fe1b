using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tests.Kernels;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// A whole sequence runs a large fused group in blocks of rows, one per thread; the instructions are the same over fewer rows, and broadcast sums run after the blocks in the unblocked order, so every
/// value and every gradient must be the same bits as one block on one thread. Alone in the MaxThreads collection: it
/// changes process-wide settings.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class GroupBlocksTests
{
    public static TheoryData<string> Cells() => [.. CellRegistry.Names];

    private static double[][] Run(string name, int blocksPerThread, int minParallelValues, int threads, int serialBlocks = 1) =>
        Run(() => PassValues.Of(name, input: 4, hidden: 5, steps: 6, batch: 7), blocksPerThread, minParallelValues, threads, serialBlocks);

    private static double[][] Run(Func<double[][]> pass, int blocksPerThread, int minParallelValues, int threads, int serialBlocks = 1)
    {
        var (savedBlocks, savedSerial, savedMin, savedThreads) =
            (GroupBlocks<double>.BlocksPerThread, GroupBlocks<double>.SerialBlocks, GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads);
        try
        {
            (GroupBlocks<double>.BlocksPerThread, GroupBlocks<double>.SerialBlocks, GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads) =
                (blocksPerThread, serialBlocks, minParallelValues, threads);
            return pass();
        }
        finally
        {
            (GroupBlocks<double>.BlocksPerThread, GroupBlocks<double>.SerialBlocks, GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads) =
                (savedBlocks, savedSerial, savedMin, savedThreads);
        }
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void BlocksOfOneRowOnOneOrTwoThreadsGiveTheBitsOfOneBlock(string name)
    {
        var whole = Run(name, blocksPerThread: 1, minParallelValues: int.MaxValue, threads: 1);
        var rows = Run(name, blocksPerThread: 4, minParallelValues: 0, threads: 2);          // 7 blocks of one row, dealt to 2 threads
        var serial = Run(name, blocksPerThread: 1, minParallelValues: int.MaxValue, threads: 1, serialBlocks: 7); // 7 blocks on this thread
        for (int k = 0; k < whole.Length; k++)
        {
            Assert.Equal(whole[k], rows[k]);
            Assert.Equal(whole[k], serial[k]);
        }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void ACellWhosePassesRanUnderOtherSettingsGivesTheBitsOfAFreshOne(string name)
    {
        // A sequence keeps its last pass's object (blocks, spans, per-stage arrays) for the next; one made for other
        // thread or block settings must be made anew, or its blocks would cover the rows the old settings gave.
        var cell = CellRegistry.Create<double>(name, 4, 5, new Rng(1));
        var settings = new (int BlocksPerThread, int MinParallelValues, int Threads, int SerialBlocks)[]
            { (1, int.MaxValue, 1, 1), (4, 0, 2, 1), (1, int.MaxValue, 1, 7), (3, 0, 2, 1), (1, int.MaxValue, 1, 1) };
        foreach (var (perThread, min, threads, serial) in settings)
        {
            var reused = Run(() => PassValues.Of(cell, steps: 6, batch: 7), perThread, min, threads, serial);
            var fresh = Run(name, perThread, min, threads, serial);
            for (int k = 0; k < fresh.Length; k++) Assert.Equal(fresh[k], reused[k]);
        }
    }

    [Fact]
    public void BlocksSayWhenTheThreadOrKernelSettingsHaveChangedSinceTheyWereMade()
    {
        var cell = CellRegistry.Create<double>("lstm", 4, 5, new Rng(1));
        cell.ExplainCompiledStep(7);
        var group = cell.CompiledStep.Traced.Select(t => t.Program).OfType<CompiledProgram<double>>().Single().Groups.Single();
        var (savedMin, savedThreads, savedKernels) = (GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads, GroupKernel<double>.Enabled);
        try
        {
            (GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads) = (0, 1);
            var blocks = new GroupBlocks<double>(group);
            Assert.True(blocks.MadeForCurrentSettings);
            Parallelism.MaxThreads = 2;   // the group is now shared out over two threads
            Assert.False(blocks.MadeForCurrentSettings);
            Parallelism.MaxThreads = 1;
            Assert.True(blocks.MadeForCurrentSettings);
            GroupKernel<double>.Enabled = !savedKernels;   // a kernel where there was none, or none where there was one
            Assert.Equal(group.Kernel is null, blocks.MadeForCurrentSettings);
        }
        finally
        {
            (GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads, GroupKernel<double>.Enabled) = (savedMin, savedThreads, savedKernels);
        }
    }

    [Fact]
    public void ASequenceKeepsNoneOfAFinishedPassesArrays()
    {
        // The pass object that a sequence keeps for its next pass must not hold the last one's tensors: at W1 the saved
        // values alone are 160 MB.
        var cell = CellRegistry.Create<double>("lstm", 4, 5, new Rng(1));
        var saved = PassOver(cell);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(saved.IsAlive, "the outputs' storage is still reachable after the pass ended and its tape was reset");
        Assert.Single(cell.CompiledStep.Traced, t => t.Program?.Sequence is not null);   // the cell, and its sequence, are alive
    }

    // A training iteration whose tape is reset; returns a weak reference to the storage of its stacked outputs.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference PassOver(RecurrentCell<double> cell)
    {
        Tape.Current.Reset();
        var x = Tensor.RandomNormal<double>(new Rng(2), [6, 7, cell.InputSize]).RequireGrad();
        var result = Unroll.Run(cell, x);
        var storage = new WeakReference(result.Output.Data);
        result.Output.Sum().Backward();
        return storage;
    }

    [Fact]
    public void AnLstmStepKeepsOnlyWhatItsBackwardReads()
    {
        // Of the 17 [B, H] values of the LSTM's group (the pre-activations and their four slices, the gates, the cell's
        // two products and sum, tanh c, h) backward reads the four gates, tanh c and the operands of the products; c and
        // h are states. The pre-activations, slices and the products' outputs live in scratch: 7 of 17 kept.
        var cell = CellRegistry.Create<float>("lstm", 32, 32, new Rng(1));
        Assert.Contains("arena 4352 values (1792 kept for backward)", cell.ExplainCompiledStep(8));
    }
}
