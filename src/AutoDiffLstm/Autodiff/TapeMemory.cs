namespace AutoDiffLstm;

/// <summary>Memory of the tape: opt-in reuse of forward buffers, and what the tape and the buffer pool hold.</summary>
public sealed partial class Tape
{
    [ThreadStatic] private static int reuseDepth;

    /// <summary>
    /// Opt-in buffer reuse for training loops: until the returned scope is disposed, the storage of every operation
    /// output recorded on this thread goes back to the buffer pool at the tape's next <see cref="Reset"/> (including
    /// the reset that ends <c>Backward</c>), and the next iteration's operations reuse it instead of allocating.
    /// </summary>
    /// <remarks>
    /// The contract: <b>a tensor computed by a recorded operation inside the scope is invalid after the tape's next
    /// reset</b>. Read what you need before that (e.g. the loss value before <c>Backward</c>, or predictions before
    /// the next iteration resets the tape), or keep it with <see cref="Tensor{T}.Detach"/> or
    /// <see cref="Tensor{T}.Clone"/> while it is valid: a detached tensor's storage is never recycled. Exempt and
    /// always valid: the tensor <c>Backward</c> was called on (the loss), operations that were not recorded (under
    /// <see cref="Autograd.NoGrad"/>, or on inputs that need no gradient), leaves, and all gradients.
    /// Reading a recycled tensor through the public API (<c>AsSpan</c>, <c>Item</c>, <c>ToArray</c>, the indexer,
    /// <c>Detach</c>, <c>Clone</c>) or passing it to an operation throws <see cref="InvalidOperationException"/>
    /// (<see cref="TensorBase.IsRecycled"/> tells); in anomaly mode (<see cref="Autograd.DetectAnomaly"/>) and in debug
    /// builds recycled storage is also filled with NaN. Scopes nest and are per thread.
    /// </remarks>
    public static Autograd.Scope ReuseBuffers()
    {
        reuseDepth++;
        return new Autograd.Scope(static () => reuseDepth--);
    }

    /// <summary>True inside a <see cref="ReuseBuffers"/> scope on this thread.</summary>
    public static bool IsReusingBuffers => reuseDepth > 0;

    /// <summary>
    /// Bytes of forward values the recorded operations keep alive for backward (each output's own storage once; views
    /// such as Reshape share their source's and are not counted again; leaves are not counted).
    /// </summary>
    public long ActivationBytes()
    {
        long bytes = 0;
        for (int i = 0; i < count; i++)
            if (entries[i].Output.StorageOwner is null) bytes += entries[i].Output.StorageBytes;
        return bytes;
    }

    /// <summary>
    /// Most bytes of free buffers the pool of one thread keeps per element type (default 1 GiB); a buffer given back
    /// beyond it is left to the garbage collector. Applies to every thread.
    /// </summary>
    public static long BufferPoolLimitBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Drops the calling thread's free buffers (e.g. after training a large model, before something else), and the
    /// arrays backward keeps for gathering weight gradients (<see cref="WeightGradientBatch"/>).
    /// </summary>
    public static void ClearBufferPool()
    {
        BufferPool<float>.Clear();
        BufferPool<double>.Clear();
        WeightGradientBatch.Clear();
    }

    /// <summary>Bytes of free buffers the calling thread's pool holds.</summary>
    internal static long PooledBytes => BufferPool<float>.RetainedBytes + BufferPool<double>.RetainedBytes;

    /// <summary>
    /// Bytes of storage the calling thread's pool has handed out and not taken back (both element types): live tensor
    /// values and gradients, plus arrays left to the garbage collector. Memory measurements read differences of it.
    /// </summary>
    internal static long StorageInUseBytes => BufferPool<float>.InUseBytes + BufferPool<double>.InUseBytes;

    /// <summary>The most <see cref="StorageInUseBytes"/> reached since <see cref="ResetPeakStorage"/> (the two element types' peaks added).</summary>
    internal static long PeakStorageInUseBytes => BufferPool<float>.PeakInUseBytes + BufferPool<double>.PeakInUseBytes;

    /// <summary>Starts a new peak of <see cref="StorageInUseBytes"/> at its current value.</summary>
    internal static void ResetPeakStorage()
    {
        BufferPool<float>.ResetPeak();
        BufferPool<double>.ResetPeak();
    }

    /// <summary>
    /// Bytes the engine keeps on the calling thread between iterations: the buffer pool's free arrays, and the arrays
    /// backward gathers small products' weight gradients in (see the README's engine notes). Under
    /// <see cref="ReuseBuffers"/> every array an iteration uses goes back to the pool by the reset that ends backward,
    /// so after a steady-state iteration this bounds the tensor storage (values, gradients other than leaves', kept
    /// packed weights) the iteration ever held at once. <see cref="ClearBufferPool"/> gives it all back.
    /// </summary>
    public static long RetainedBufferBytes => PooledBytes + WeightGradientBatch.RetainedBytes;
}
