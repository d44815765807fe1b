using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// Weight gradients of the per-step products of an unrolled recurrence, gathered during a backward pass and computed as
/// one product per weight: dW_hh = sum_t dgates_t^T h_{t-1} is a single [4H, R] x [R, H] product over the stacked rows
/// R of many steps, instead of one [4H, B] x [B, H] product per step.
/// </summary>
/// <remarks>
/// Why: a per-step weight gradient has a depth of only B (8 at W3, 1 at W4), so each step reads and writes all of dW
/// for B multiply-adds per element; stacking the steps makes the depth hundreds, and the product runs at the speed of
/// a large GEMM (and on every core). Backward appends a copy of each step's rows (its output gradient and its input;
/// both buffers are reused as soon as the rule returns) and the product runs when the stack is full and when the
/// outermost backward pass ends. Only parameters (leaf weights) are batched: nothing reads a leaf's gradient before
/// backward returns, while a computed weight's gradient is consumed by its producer's rule later in the same pass.
/// The rows are summed in the order backward visits them, whatever the thread count, so results stay bit-identical
/// across thread counts, and a checkpointed pass (whose segments run nested backward passes in the same order) gives
/// the same sums as a plain one.
/// </remarks>
internal static class WeightGradientBatch
{
    /// <summary>Most bytes of stacked rows kept per weight before its product runs (then the stack starts again).</summary>
    public const int StackBytes = 4 << 20;

    /// <summary>
    /// Products of at most this many rows are batched. Measured on one core (interleaved runs of the benchmark LSTM):
    /// batch 1 (W4) trains about 25 % faster batched; batch 8 (W3) the same either way, since a depth of 8 already keeps
    /// a register tile of dW busy; batch 32 and 64 (W2, W1) 2-10 % slower, the copies costing more than they save.
    /// </summary>
    public const int MaxRows = 4;

    [ThreadStatic] private static Batch? current;

    /// <summary>
    /// Opens the batch of a backward pass on this thread; a nested pass (a checkpoint segment's recomputation) joins the
    /// open one. <see cref="Scope.Complete"/> runs the outstanding products; a scope disposed without it (backward
    /// failed) drops them.
    /// </summary>
    public static Scope Open()
    {
        if (current is { Open: true }) return default;
        var batch = current ??= new Batch();
        batch.Open = true;
        return new Scope(batch);
    }

    /// <summary>
    /// Takes over dW += g^T x for a weight product of <paramref name="rows"/> rows (g is [rows, outF], x is [rows, inF],
    /// W is [outF, inF]) when a batch is open and W is a parameter; false means the caller must run the product now.
    /// </summary>
    public static bool TryDefer<T>(Tensor<T> w, ReadOnlySpan<T> g, ReadOnlySpan<T> x, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows > MaxRows || current is not { Open: true } batch || !w.IsLeaf) return false;
        int outF = w.Dims[0], inF = w.Dims[1];
        int capacity = Math.Max(MaxRows, StackBytes / ((outF + inF) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        batch.StackFor(w, capacity).Append(g[..(rows * outF)], x[..(rows * inF)], rows);
        return true;
    }

    /// <summary>Bytes of the arrays this thread's stacks keep between passes (outside the buffer pool).</summary>
    public static long RetainedBytes => current?.Bytes ?? 0;

    /// <summary>Drops this thread's stacks and their arrays (<see cref="Tape.ClearBufferPool"/>); an open pass keeps its own.</summary>
    public static void Clear()
    {
        if (current is { Open: false }) current = null;
    }

    /// <summary>The open batch of one backward pass (disposing the outer scope closes it).</summary>
    public readonly struct Scope(Batch? batch) : IDisposable
    {
        /// <summary>Runs every outstanding product (the outer scope only): call when the walk of the tape has succeeded.</summary>
        public void Complete() => batch?.RunAll();

        /// <inheritdoc/>
        public void Dispose()
        {
            if (batch is null) return;
            batch.DropAll();
            batch.Open = false;
        }
    }

    /// <summary>Per thread: a stack of rows per weight; stacks keep their arrays between passes (a training loop allocates them once).</summary>
    internal sealed class Batch
    {
        public bool Open;
        private readonly List<IStack> stacks = [];

        public Stack<T> StackFor<T>(Tensor<T> w, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
        {
            foreach (var s in stacks)
                if (s is Stack<T> typed && ReferenceEquals(typed.Weight, w)) return typed;
            foreach (var s in stacks) // an idle stack of the same shape, from an earlier pass
                if (s is Stack<T> { Weight: null } idle && idle.Fits(w, capacity)) return idle.AssignTo(w);
            var stack = new Stack<T>(w.Dims[0], w.Dims[1], capacity);
            stacks.Add(stack);
            return stack.AssignTo(w);
        }

        public void RunAll()
        {
            foreach (var s in stacks) s.Run();
        }

        public long Bytes => stacks.Sum(s => s.Bytes);

        public void DropAll()
        {
            foreach (var s in stacks) s.Release();
        }
    }

    internal interface IStack
    {
        void Run();
        void Release();
        long Bytes { get; }
    }

    /// <summary>The stacked rows of one weight: G [rows, outF] and X [rows, inF]; running adds G^T X to the weight's gradient.</summary>
    internal sealed class Stack<T>(int outF, int inF, int capacity) : IStack where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Grown by doubling up to the capacity, so a pass of fewer rows than fit keeps only what it used (at W4 a tanh
        // RNN's 1000 rows are 1 MB of the 4 MB a full stack would hold, a third of what its tape keeps for backward).
        private T[] g = [], x = [];
        private int rows;
        public Tensor<T>? Weight { get; private set; }

        public bool Fits(Tensor<T> w, int capacityWanted) => w.Dims[0] == outF && w.Dims[1] == inF && capacity == capacityWanted;

        public Stack<T> AssignTo(Tensor<T> w)
        {
            Weight = w;
            return this;
        }

        public void Append(ReadOnlySpan<T> gRows, ReadOnlySpan<T> xRows, int count)
        {
            if (rows + count > capacity) Run();
            if ((rows + count) * outF > g.Length) Grow(rows + count);
            gRows.CopyTo(g.AsSpan(rows * outF));
            xRows.CopyTo(x.AsSpan(rows * inF));
            rows += count;
        }

        private void Grow(int needed)
        {
            int length = Math.Min(capacity, Math.Max(needed, Math.Max(64, 2 * (g.Length / outF))));
            Array.Resize(ref g, length * outF);
            Array.Resize(ref x, length * inF);
        }

        public void Run()
        {
            if (rows > 0) Gemm.Run(g, 0, true, x, 0, false, Weight!.GradSink().ZeroedArray(), 0, outF, inF, rows, accumulate: true);
            rows = 0;
        }

        public long Bytes => (long)(g.Length + x.Length) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

        public void Release()
        {
            rows = 0;
            Weight = null;
        }
    }
}
