namespace AutoDiffLstm.Tests.Kernels;

/// <summary>A bias gradient summed over threads by column blocks: the bits of one serial AddRows, whatever the thread count.</summary>
[Collection(GemmThreadsCollection.Name)]
public class RowSumsTests
{
    [Theory]
    [InlineData(64, 2048, 3)]   // W1's recurrent product per step: shared out over two threads
    [InlineData(300, 1000, 5)]  // columns that are not whole cache lines per block
    [InlineData(7, 33, 2)]      // too small to share: the serial kernel
    public void ColumnBlocksOnTwoThreadsGiveTheBitsOfOneSerialSum(int rows, int cols, int offset)
    {
        var rng = new Rng(4);
        var data = Tensor.RandomNormal<float>(rng, [offset + rows * cols + 3]).ToArray();
        var start = Tensor.RandomNormal<float>(rng, [cols + 2]).ToArray();
        var expected = (float[])start.Clone();
        AutoDiffLstm.Kernels.AddRows<float>(data.AsSpan(offset, rows * cols), expected.AsSpan(0, cols));
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.MaxThreads = threads;
                var got = (float[])start.Clone();
                RowSums<float>.Add(data, offset, rows, got, cols);
                Assert.Equal(expected, got); // the two values past cols are untouched too
            }
        }
        finally { Parallelism.MaxThreads = saved; }
    }
}
