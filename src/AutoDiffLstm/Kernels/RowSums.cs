using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// A bias's gradient, sum += the rows of dy, over the <see cref="WorkerTeam"/> when dy is large: each thread sums a
/// block of columns over every row, so every element gets the additions of <see cref="Kernels.AddRows{T}"/> in the same
/// order and the bits do not depend on the thread count.
/// </summary>
/// <remarks>
/// The sum is memory-bound (one read of dy): two threads stream it faster than one. At W1 the hoisted projection's
/// [6400, 2048] and the recurrent product's [64, 2048] per step ran on the calling thread while the worker waited.
/// </remarks>
internal sealed class RowSums<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Values per thread below which waking the team costs more than the halved read (half a [64, 2048] step is 65K).
    private const int MinValuesPerThread = 1 << 16;

    [ThreadStatic] private static RowSums<T>? mine;

    private T[] rows = [], sum = [];
    private int offset, count, cols, share;
    private readonly Action<int> part;   // made once: a lambda per call would allocate a closure

    private RowSums() => part = Part;

    /// <summary>sum[0..cols) += each of the <paramref name="count"/> rows of <paramref name="cols"/> values at rows[offset..], row 0 first.</summary>
    public static void Add(T[] rows, int offset, int count, T[] sum, int cols)
    {
        int threads = (int)Math.Clamp((long)count * cols / MinValuesPerThread, 1, Parallelism.MaxThreads);
        // Two column blocks per thread (claimed as threads free up, so a slower thread takes fewer), of whole 64-byte
        // lines: two threads never write the same line of the sum.
        int line = 64 / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int share = (cols + 2 * threads - 1) / (2 * threads) / line * line;
        if (threads == 1 || share == 0)
        {
            Kernels.AddRows<T>(rows.AsSpan(offset, count * cols), sum.AsSpan(0, cols));
            return;
        }
        var job = mine ??= new RowSums<T>();
        (job.rows, job.offset, job.count, job.sum, job.cols, job.share) = (rows, offset, count, sum, cols, share);
        WorkerTeam.Run(threads, (cols + share - 1) / share, job.part);
        (job.rows, job.sum) = ([], []); // drop the arrays
    }

    private void Part(int p)
    {
        int from = p * share, width = Math.Min(share, cols - from);
        var total = sum.AsSpan(from, width);
        for (int r = 0; r < count; r++) Kernels.AddInto<T>(total, rows.AsSpan(offset + r * cols + from, width));
    }
}
