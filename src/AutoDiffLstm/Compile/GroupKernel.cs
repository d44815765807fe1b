using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

/// <summary>
/// A fused group's program compiled to one loop over rows, forward and backward, generated at run time
/// (System.Linq.Expressions, JIT-compiled) from the same instructions the interpreter runs: each primitive through the
/// vector form of its own formula (<see cref="IElementwiseKernel{T}.VectorForm"/>), so nothing here knows any cell.
/// </summary>
/// <remarks>
/// Why: run instruction by instruction, a small group spends most of its time between instructions (W3, B = 8, H = 32:
/// 14 instructions over 256 to 1,024 values, about 2.6 us a step forward and backward), and every value goes through
/// memory. Here, per row:
/// <list type="bullet">
/// <item>consecutive elementwise instructions of one width form a run, one loop over the row's vectors in which values
/// stay in registers; a value is stored only when backward reads it, the step returns it, or another run reads it, and
/// a value the step returns also into the caller's copy of it (<see cref="OutputCopy"/>: a sequence's stack over time);</item>
/// <item>slicing (Narrow) and broadcasting (Expand) generate no code: their readers read the source in place, and a
/// slice backward reads is copied out once; a value read only through slices that tile it is computed where each
/// slice is read and never stored (an LSTM's pre-activations);</item>
/// <item>backward walks the runs in reverse with each value's gradient in a register, starting from what readers
/// outside the run have added to memory; a gradient that gets exactly one contribution per element is written
/// (0 + c) rather than added to a cleared buffer, and so are the externals' gradients the caller marks fresh; a
/// broadcast's sum over rows runs afterwards, instruction by instruction (<see cref="GroupBlocks{T}"/>);</item>
/// <item>the JIT inlines a few hundred calls into one method and then stops, so long programs are cut into several
/// methods (at run boundaries, values between them in memory) and short loops are unrolled only a little.</item>
/// </list>
/// Every element sees the same operations in the same order as in the interpreter (gradients add their contributions
/// in reverse program order, starting from memory), so the bits are the interpreter's; <c>GroupKernelTests</c> checks
/// that for every registered cell. Vectors are 512 bits where AVX-512 is and 256 bits where only AVX2 is
/// (<see cref="VectorBits"/>); a group falls back to the interpreter, with its reason in
/// <see cref="FusedGroup{T}.Describe"/>, when the hardware has neither, a primitive has no vector form for T, a row is
/// not whole vectors, or an instruction is a concatenation or a per-row broadcast.
/// </remarks>
internal sealed partial class GroupKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Tests turn generated kernels off to compare them with the interpreter.</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether a whole-sequence pass that finds a group's kernel not yet generated has it generated on a thread-pool
    /// thread and runs the group instruction by instruction meanwhile (default), or generates it first
    /// (<see cref="FusedGroup{T}.KernelIfReady"/>). Tests that must run the kernel from the first pass turn it off.
    /// </summary>
    internal static bool GenerateInBackground { get; set; } = true;

    /// <summary>How a background generation is started: a thread-pool work item (tests hold the work to choose when it runs).</summary>
    internal static Action<Action> StartInBackground { get; set; } = work => ThreadPool.UnsafeQueueUserWorkItem(static w => w(), work, preferLocal: false);

    /// <summary>The memory a kernel reads and writes: stream k is <c>arrays[k]</c> from <c>offsets[k]</c> (the group's row 0).</summary>
    internal delegate void Body(T[]?[] arrays, int[] offsets, bool[] fresh, int rowStart, int rows);

    /// <summary>
    /// The streams: the arena's kept part, its scratch part, the arena's gradients, then per external its values and its
    /// gradient (null: none), then per output a second place forward stores it (null: none; see <see cref="OutputCopy"/>).
    /// </summary>
    public const int Kept = 0, Scratch = 1, Gradients = 2;

    public static int ExternalValues(int k) => 3 + 2 * k;

    public static int ExternalGradients(int k) => 4 + 2 * k;

    /// <summary>
    /// The stream where forward also stores output j of a group of <paramref name="externals"/> externals, its rows
    /// contiguous: a whole sequence's stack of that result over time, so the caller does not copy each step's result
    /// out of the arena afterwards (W1: 256 KB a step, read back from another core's cache on two threads).
    /// </summary>
    public static int OutputCopy(int j, int externals) => 3 + 2 * externals + j;

    // Streams that may be null at a call: an external's gradient and an output's copy.
    private bool MayBeNull(int k) => k >= ExternalValues(0) && (k >= OutputCopy(0, externalCount) || (k - ExternalValues(0)) % 2 == 1);

    // Per pass, the streams it touches (a nonzero extent) and whether each may be null: what Check visits at every call.
    private static (int Stream, int Extent, bool MayBeNull)[] Touched(int[] extent, Func<int, bool> mayBeNull) =>
        [.. extent.Select((e, k) => (k, e, mayBeNull(k))).Where(t => t.e != 0)];

    private readonly int externalCount;

    private readonly Body forward, backward;
    private readonly int[] forwardExtent, backwardExtent;   // per stream, the values past its offset a pass touches (0: none)

    /// <summary>The number of streams (3 + 2 per external).</summary>
    public int Streams => forwardExtent.Length;

    /// <summary>How the group runs, for <see cref="FusedGroup{T}.Describe"/>.</summary>
    public string Summary { get; private set; }

    /// <summary>The inner slots whose gradients must be zero before backward (those it adds to in memory), and their places merged into ranges.</summary>
    public int[] ClearedSlots { get; }

    /// <inheritdoc cref="ClearedSlots"/>
    public (int Offset, int Length)[] ClearedRanges { get; }

    private GroupKernel(Body forward, Body backward, int[] forwardExtent, int[] backwardExtent, int[] clearedSlots, (int, int)[] clearedRanges,
        bool[] writesGradientOnce, int rows, int externals, string summary)
    {
        externalCount = externals;
        (WritesGradientOnce, noneFresh, groupRows) = (writesGradientOnce, new bool[writesGradientOnce.Length], rows);
        (this.forward, this.backward, this.forwardExtent, this.backwardExtent) = (forward, backward, forwardExtent, backwardExtent);
        (forwardTouched, backwardTouched) = (Touched(forwardExtent, MayBeNull), Touched(backwardExtent, MayBeNull));
        (ClearedSlots, ClearedRanges, Summary) = (clearedSlots, clearedRanges, summary);
    }

    /// <summary>Rows [rowStart, rowStart + rows) forward: the kept values (and those other runs read) stored.</summary>
    public void Forward(T[]?[] arrays, int[] offsets, int rowStart, int rows)
    {
        Check(arrays, offsets, forwardTouched, "forward", rowStart, rows);
        forward(arrays, offsets, noneFresh, rowStart, rows);
    }

    /// <summary>
    /// Rows [rowStart, rowStart + rows) backward, except broadcast sums over rows (<see cref="FusedInstruction{T}.SumsOverRows"/>).
    /// <paramref name="fresh"/> (null: none) marks the externals whose gradients nothing has written yet: where the kernel
    /// adds exactly one contribution per element (<see cref="WritesGradientOnce"/>) it writes 0 + c there, so the caller
    /// need not clear them.
    /// </summary>
    public void Backward(T[]?[] arrays, int[] offsets, bool[]? fresh, int rowStart, int rows)
    {
        Check(arrays, offsets, backwardTouched, "backward", rowStart, rows);
        backward(arrays, offsets, fresh ?? noneFresh, rowStart, rows);
    }

    /// <summary>Per external, whether the kernel adds exactly one contribution to each element of its gradient.</summary>
    public bool[] WritesGradientOnce { get; }

    private readonly bool[] noneFresh;
    private readonly int groupRows;   // the extents cover rows [0, groupRows)

    // The generated code does not check bounds; every stream it touches is checked here once per call.
    private void Check(T[]?[] arrays, int[] offsets, (int Stream, int Extent, bool MayBeNull)[] touched, string pass, int rowStart, int rows)
    {
        if (rowStart < 0 || rows < 0 || rowStart + rows > groupRows)
            throw new ArgumentOutOfRangeException(nameof(rows), $"GroupKernel {pass}: rows [{rowStart}, {rowStart + rows}) of a group of {groupRows}.");
        if (arrays.Length < forwardExtent.Length || offsets.Length < forwardExtent.Length)
            throw new ArgumentException($"GroupKernel {pass}: {arrays.Length} arrays and {offsets.Length} offsets for {forwardExtent.Length} streams.");
        foreach (var (k, extent, mayBeNull) in touched)
        {
            var a = arrays[k];
            if (a is null && mayBeNull) continue;
            if (a is null || offsets[k] < 0 || (long)offsets[k] + extent > a.Length)
                throw new InvalidOperationException($"GroupKernel {pass}: stream {k} needs {extent} values from offset {offsets[k]}, but its buffer holds {a?.Length ?? 0}.");
        }
    }

    private readonly (int Stream, int Extent, bool MayBeNull)[] forwardTouched, backwardTouched;

    /// <summary>The kernel of <paramref name="group"/>, or null with the reason it runs instruction by instruction.</summary>
    public static GroupKernel<T>? TryBuild(FusedGroup<T> group, out string reason)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var builder = new Builder(group);
        reason = builder.Plan();
        if (reason.Length > 0) return null;
        var kernel = builder.Build();
        kernel.Summary += $", generated and compiled in {clock.Elapsed.TotalMilliseconds:0.0} ms";
        return kernel;
    }

    /// <summary>
    /// The width of the vectors generated kernels use: 512 bits where the hardware has them (AVX-512), else 256 (AVX2),
    /// else 0 (groups run instruction by instruction). Tests set 256 on AVX-512 hardware to check both widths.
    /// </summary>
    internal static int VectorBits
    {
        get => vectorBits;
        set
        {
            if (value != 0 && !(value == 256 && Vector256.IsHardwareAccelerated) && !(value == 512 && Vector512.IsHardwareAccelerated))
                throw new ArgumentOutOfRangeException(nameof(value), $"GroupKernel: {value}-bit vectors are not hardware-accelerated here (0, 256 where AVX2 is, 512 where AVX-512 is).");
            vectorBits = value;
        }
    }

    private static int vectorBits = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0;

    // Element i of an array, unchecked (Check above bounds every stream), at each width: the methods a kernel calls.
    private static class Wide
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<T> Load(T[] a, int i) => Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<T> LoadBroadcast(T[] a, int i) => Vector512.Create(Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), i));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Store(T[] a, int i, Vector512<T> v) => v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<T> Sum(Vector512<T> a, Vector512<T> b) => a + b;
    }

    private static class Narrow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<T> Load(T[] a, int i) => Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<T> LoadBroadcast(T[] a, int i) => Vector256.Create(Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), i));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Store(T[] a, int i, Vector256<T> v) => v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<T> Sum(Vector256<T> a, Vector256<T> b) => a + b;
    }

    /// <summary>Where a value's elements are: element (r, c) at <c>offsets[Stream] + Offset + r * RowStride + c</c> (a scalar: without c).</summary>
    private readonly record struct Place(int Stream, int Offset, int RowStride, bool Scalar = false)
    {
        public Place Shifted(int columns) => this with { Offset = Offset + columns };
    }
}
