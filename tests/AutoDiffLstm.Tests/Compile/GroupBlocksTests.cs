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

    private static double[][] Run(string name, int blocksPerThread, int minParallelValues, int threads, int serialBlocks = 1)
    {
        var (savedBlocks, savedSerial, savedMin, savedThreads) =
            (GroupBlocks<double>.BlocksPerThread, GroupBlocks<double>.SerialBlocks, GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads);
        try
        {
            (GroupBlocks<double>.BlocksPerThread, GroupBlocks<double>.SerialBlocks, GroupBlocks<double>.MinParallelValues, Parallelism.MaxThreads) =
                (blocksPerThread, serialBlocks, minParallelValues, threads);
            return PassValues.Of(name, input: 4, hidden: 5, steps: 6, batch: 7);
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
