using System.Numerics;
using System.Runtime.CompilerServices;

namespace AutoDiffLstm;

/// <summary>
/// The calling thread's free tensor buffers, keyed by EXACT length: a training iteration asks for the same sizes as
/// the previous one, and code all over the engine relies on <c>Data.Length</c> being the tensor's size, so unlike
/// <see cref="System.Buffers.ArrayPool{T}"/> a rented array is never longer than asked for.
/// </summary>
/// <remarks>
/// Invariant: an array in the pool is referenced by nothing else, so renting is always safe. Only the engine returns
/// arrays, and only those it knows to be unreachable from user code: gradients of intermediates once backward has
/// consumed them, temporaries of backward rules, and forward values recorded under <see cref="Tape.ReuseBuffers"/>
/// at the tape's next reset. One pool per thread and element type (like the tape), so no locking; an array returned
/// on another thread than the one that rented it simply joins that thread's pool.
/// </remarks>
internal static class BufferPool<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly int ElementBytes = typeof(T) == typeof(float) ? sizeof(float) : sizeof(double);

    // The thread's pool lives in a [ThreadStatic] field of a non-generic class: a [ThreadStatic] field of this generic
    // class is reached through the runtime's generic-statics lookup on every Rent and Return, which together with the
    // thread-local lookup was 6 % of a chain of small operations; the non-generic field costs the thread-local lookup
    // only. typeof(T) tests are constants to the JIT.
    private static Pool State => typeof(T) == typeof(float)
        ? Unsafe.As<Pool>(BufferPoolState.Float ??= new BufferPool<float>.Pool())
        : Unsafe.As<Pool>(BufferPoolState.Double ??= new BufferPool<double>.Pool());

    /// <summary>Bytes of free arrays this thread's pool holds.</summary>
    public static long RetainedBytes => State.RetainedBytes;

    /// <summary>
    /// Bytes of arrays this thread rented and has not given back: the storage of live tensors and gradients, and of
    /// arrays that were dropped to the garbage collector instead (forward values outside <see cref="Tape.ReuseBuffers"/>).
    /// </summary>
    public static long InUseBytes => State.InUseBytes;

    /// <summary>The most <see cref="InUseBytes"/> reached since the last <see cref="ResetPeak"/>.</summary>
    public static long PeakInUseBytes => State.PeakInUseBytes;

    /// <summary>Starts a new peak at the current <see cref="InUseBytes"/>.</summary>
    public static void ResetPeak()
    {
        var pool = State;
        pool.PeakInUseBytes = pool.InUseBytes;
    }

    /// <summary>An array of exactly <paramref name="length"/> elements with arbitrary contents (a pooled one when available).</summary>
    public static T[] Rent(int length) =>
        length == 0 ? [] : State.TakeOut(length) ?? GC.AllocateUninitializedArray<T>(length);

    /// <summary>An array of exactly <paramref name="length"/> zeros.</summary>
    public static T[] RentZeroed(int length)
    {
        if (length == 0) return [];
        if (State.TakeOut(length) is not { } array) return new T[length];
        Array.Clear(array);
        return array;
    }

    /// <summary>
    /// Gives <paramref name="array"/> back. The caller guarantees that nothing references it any more. In anomaly mode,
    /// and always in debug builds, it is filled with NaN first, so that a read through a stale reference shows up.
    /// </summary>
    public static void Return(T[] array)
    {
        if (array.Length == 0) return;
        long bytes = (long)array.Length * ElementBytes;
        PackedOperands.Forget(array); // about to be reused for other contents: a packed copy of it would go stale
        var pool = State;
        pool.InUseBytes -= bytes;
        if (pool.RetainedBytes + bytes > Tape.BufferPoolLimitBytes) return; // over the limit: leave it to the GC
        if (PoisonOnReturn) array.AsSpan().Fill(T.NaN);
        pool.FindOrAdd(array.Length).Push(array);
        pool.RetainedBytes += bytes;
    }

    /// <summary>Drops every free array of this thread (for the element type T).</summary>
    public static void Clear()
    {
        // The arrays handed out are still out: a fresh pool keeps counting them.
        long inUse = State.InUseBytes;
        var fresh = new Pool { InUseBytes = inUse, PeakInUseBytes = inUse };
        if (typeof(T) == typeof(float)) BufferPoolState.Float = Unsafe.As<BufferPool<float>.Pool>(fresh);
        else BufferPoolState.Double = Unsafe.As<BufferPool<double>.Pool>(fresh);
    }

    /// <summary>Whether <paramref name="array"/> currently sits in this thread's pool (tests: a buffer must never be both free and in use).</summary>
    internal static bool Contains(T[] array)
    {
        if (State.Find(array.Length) is not { } bucket) return false;
        for (int i = 0; i < bucket.Count; i++)
            if (ReferenceEquals(bucket.Items[i], array)) return true;
        return false;
    }

#if DEBUG
    private static bool PoisonOnReturn => true;
#else
    private static bool PoisonOnReturn => Autograd.AnomalyDetectionEnabled;
#endif

    /// <summary>One thread's free arrays by length, and their total size.</summary>
    internal sealed class Pool
    {
        private readonly Dictionary<int, Bucket> buckets = [];
        private Bucket? last; // the bucket of the previous request: a step asks for the same size several times in a row
        public long RetainedBytes, InUseBytes, PeakInUseBytes;

        /// <summary>
        /// Counts an array of <paramref name="length"/> as handed out (for the peak memory measurements read) and returns
        /// a free one of that length, or null when the caller must allocate it.
        /// </summary>
        public T[]? TakeOut(int length)
        {
            long bytes = (long)length * ElementBytes;
            InUseBytes += bytes;
            if (InUseBytes > PeakInUseBytes) PeakInUseBytes = InUseBytes;
            if (Find(length) is not { Count: > 0 } bucket) return null;
            RetainedBytes -= bytes;
            return bucket.Pop();
        }

        public Bucket? Find(int length)
        {
            if (last?.Length == length) return last;
            if (buckets.TryGetValue(length, out var bucket)) last = bucket;
            return bucket;
        }

        public Bucket FindOrAdd(int length)
        {
            if (Find(length) is { } bucket) return bucket;
            buckets.Add(length, last = new Bucket(length));
            return last;
        }
    }

    /// <summary>A stack of free arrays of one length (a growable array: no per-push allocation once grown).</summary>
    internal sealed class Bucket(int length)
    {
        public readonly int Length = length;
        public T[][] Items = new T[4][];
        public int Count;

        public void Push(T[] array)
        {
            if (Count == Items.Length) Array.Resize(ref Items, Count * 2);
            Items[Count++] = array;
        }

        public T[] Pop()
        {
            var array = Items[--Count];
            Items[Count] = null!;
            return array;
        }
    }
}

/// <summary>The per-thread state of <see cref="BufferPool{T}"/>, kept in a non-generic class (see there why).</summary>
internal static class BufferPoolState
{
    [ThreadStatic] internal static BufferPool<float>.Pool? Float;
    [ThreadStatic] internal static BufferPool<double>.Pool? Double;
}
