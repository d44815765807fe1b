using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// Runs a fused group of a whole-sequence pass in blocks of rows shared out over <see cref="WorkerTeam"/>, a few blocks
/// per thread, when the group is large enough to pay for it; each block goes through the whole program (forward, or
/// backward in reverse). The instructions are the same; only the rows a frame covers change, so the values are the
/// same bits for any block count and thread count.
/// </summary>
/// <remarks>
/// Why not many small, cache-sized blocks: measured at W1 (B = 64, H = 512, one thread, 2026-12-06), blocks of 4 rows
/// (213 KB each) took the group from 34 to 43 ms per iteration. A large group streams its projected inputs and the
/// values it keeps from and to memory whichever way it is cut, and short per-block streams defeat the prefetchers; at
/// W2 (B = 32, H = 256) cache-sized blocks measured no gain either.
/// <para>
/// Backward of a broadcast row or scalar sums rows into one value (<see cref="FusedInstruction{T}.SumsOverRows"/>).
/// Those instructions run after the blocks, over every row, in reverse program order: nothing else in the group adds
/// into a broadcast source's gradient, so its sums are added in the order the unblocked program adds them. The
/// gradients of the group's inner values (those nothing outside it reads) start at zero in each block, cleared there
/// while in cache, so a step does not clear them beforehand (<see cref="FusedGroup{T}.InnerSlots"/>).
/// One instance per group and pass: it holds the pass's current buffers for the workers.
/// </para>
/// </remarks>
internal sealed class GroupBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Blocks per thread of a group shared out over threads, each block claimed by whichever thread is free. Two, so that
    /// a thread that runs slower takes fewer rows: on the project's VMs one virtual core streams memory at 31 GB/s, the
    /// other at 41, and which thread lands where changes from run to run (measured at W1 on two threads, 2026-12-07:
    /// with one block each, the worker's block of the LSTM group took 60-100 us against the caller's 50 in some runs).
    /// </summary>
    internal static int BlocksPerThread { get; set; } = 2;

    /// <summary>Blocks of a group run on one thread (tests raise it; one block measured best).</summary>
    internal static int SerialBlocks { get; set; } = 1;

    /// <summary>Values a group must hold before its blocks are shared out over threads (below that, waking a worker costs more than it saves).</summary>
    internal static int MinParallelValues { get; set; } = 32 * 1024;

    private readonly FusedGroup<T> group;
    private readonly int blockRows, blocks;
    private readonly Action<int> forwardBlock, backwardBlock;
    private T[] values = [], scratch = [], gradients = [];
    private int valuesAt, scratchAt, gradientsAt;
    private ExternalSpan<T>[] externals = [];
    private readonly GroupKernel<T>? kernel;   // null: instruction by instruction
    private readonly T[]?[] streams = [];
    private readonly int[] streamOffsets = [];
    private bool[]? fresh;   // the externals whose gradients the kernel writes this step instead of adding to (see GroupKernel.Backward)

    public GroupBlocks(FusedGroup<T> group)
    {
        this.group = group;
        (blocks, blockRows) = BlocksOf(group);
        kernel = GroupKernel<T>.Enabled ? group.KernelIfReady : null;
        rowSums = group.RowSums;
        if (kernel is not null) (streams, streamOffsets) = (new T[kernel.Streams][], new int[kernel.Streams]);
        // A team part per block, claimed by whichever thread is free.
        forwardBlock = ForwardBlock;
        backwardBlock = b => BackwardBlock(b, everything: false);
    }

    /// <summary>Blocks and rows per block for the current thread count and block settings.</summary>
    private static (int Blocks, int BlockRows) BlocksOf(FusedGroup<T> group)
    {
        int valuesPerRow = group.SlotCols.Sum() + group.ExternalCols.Sum();
        bool parallel = (long)group.Rows * valuesPerRow >= MinParallelValues;
        int threads = parallel ? Parallelism.MaxThreads : 1;
        int blocks = Math.Min(group.Rows, threads > 1 ? threads * BlocksPerThread : SerialBlocks);
        int blockRows = (group.Rows + blocks - 1) / blocks;
        return ((group.Rows + blockRows - 1) / blockRows, blockRows); // no empty block
    }

    /// <summary>Whether the blocks and kernel are those the current settings give (a pass object reused after a test or user changed the thread count is made anew).</summary>
    /// <remarks>Also false once a kernel generated in the background is ready (<see cref="FusedGroup{T}.KernelIfReady"/>): the next pass takes it up.</remarks>
    public bool MadeForCurrentSettings => kernel == (GroupKernel<T>.Enabled ? group.KernelIfReady : null) && BlocksOf(group) == (blocks, blockRows);

    /// <summary>Lets go of the last pass's arrays (the object outlives its pass).</summary>
    public void Release()
    {
        (values, scratch, gradients, externals, fresh) = ([], [], [], [], null);
        Array.Clear(streams);
    }

    /// <summary>
    /// The program over the arena (its kept part at values[valuesAt..], the rest at scratch[scratchAt..]) and the
    /// externals' current spans. With a generated kernel (<see cref="CopiesOutputs"/>), output j is also stored at
    /// <paramref name="copies"/>[j] where that array is not null, its rows contiguous from the offset.
    /// </summary>
    public void Forward(T[] values, int valuesAt, T[] scratch, int scratchAt, ExternalSpan<T>[] externals, (T[]? Array, int Offset)[]? copies = null)
    {
        (this.values, this.valuesAt, this.scratch, this.scratchAt, this.externals) = (values, valuesAt, scratch, scratchAt, externals);
        gradients = [];
        SetStreams();
        if (kernel is not null)
            for (int j = 0; j < group.OutputMembers.Length; j++)
                Set(GroupKernel<T>.OutputCopy(j, externals.Length), copies?[j].Array, copies?[j].Offset ?? 0);
        Run(forwardBlock);
    }

    /// <summary>Whether forward stores the outputs where <see cref="Forward"/>'s copies say (a generated kernel does; the interpreter does not).</summary>
    public bool CopiesOutputs => kernel is not null;

    /// <summary>Per external, whether the generated kernel adds exactly one contribution per element to its gradient (null: no kernel).</summary>
    public bool[]? WritesGradientOnce => kernel?.WritesGradientOnce;

    /// <summary>
    /// The program in reverse: gradients at gradients[at..] (the group's outputs' gradients complete, its inner slots'
    /// anything: each block clears its own), adding into the externals' gradients, or writing those marked
    /// <paramref name="fresh"/> (only with a generated kernel, where <see cref="WritesGradientOnce"/>).
    /// </summary>
    public void Backward(T[] values, int valuesAt, T[] scratch, int scratchAt, T[] gradients, int gradientsAt, ExternalSpan<T>[] externals, bool[]? fresh = null)
    {
        this.fresh = fresh;
        (this.values, this.valuesAt, this.scratch, this.scratchAt) = (values, valuesAt, scratch, scratchAt);
        (this.gradients, this.gradientsAt, this.externals) = (gradients, gradientsAt, externals);
        SetStreams();
        if (blocks == 1 && kernel is null)
        {
            // One block (a group of one row may broadcast its own values): the program exactly in reverse.
            BackwardBlock(0, everything: true);
            return;
        }
        if (blocks == 1) BackwardBlock(0, everything: false);
        else Run(backwardBlock);
        if (rowSums.Length == 0) return;
        var whole = Frame(0, group.Rows);
        foreach (var instruction in rowSums) instruction.Backward(whole);
    }

    // The instructions whose backward sums over rows, in reverse program order (most groups have none).
    private readonly FusedInstruction<T>[] rowSums;

    /// <summary>
    /// Whether a whole sequence's pass may set the kernel's streams itself and run it (<see cref="SetArena"/>,
    /// <see cref="SetExternal"/>, <see cref="SetCopy"/>, then <see cref="RunForward"/> or <see cref="RunBackward"/>):
    /// one block, a generated kernel, no sums over rows. The same kernel on the same buffers as <see cref="Forward"/>
    /// and <see cref="Backward"/>, without the spans and frames a block of the general path is given: at W3 (a pass
    /// timed with its kernels and products left out) the two groups' per-step work outside their kernels went from
    /// 11.3 to about 8.5 us an iteration.
    /// </summary>
    public bool Direct => kernel is not null && blocks == 1 && rowSums.Length == 0;

    /// <summary>The group's arena (its kept part at values[valuesAt..], the rest at scratch[scratchAt..]) and its gradients (null in forward).</summary>
    public void SetArena(T[] values, int valuesAt, T[] scratch, int scratchAt, T[]? gradients, int gradientsAt)
    {
        Set(GroupKernel<T>.Kept, values, valuesAt);
        Set(GroupKernel<T>.Scratch, scratch, scratchAt);
        Set(GroupKernel<T>.Gradients, gradients, gradientsAt);
        (this.gradients, this.gradientsAt) = (gradients ?? [], gradientsAt);
    }

    /// <summary>External k's values at array[offset..] and its gradient (null: none, or forward).</summary>
    public void SetExternal(int k, T[] array, int offset, T[]? gradient, int gradientOffset)
    {
        Set(GroupKernel<T>.ExternalValues(k), array, offset);
        Set(GroupKernel<T>.ExternalGradients(k), gradient, gradientOffset);
    }

    /// <summary>Where forward also stores output j (null: nowhere), its rows contiguous from the offset.</summary>
    public void SetCopy(int j, T[]? array, int offset) => Set(GroupKernel<T>.OutputCopy(j, group.Externals.Length), array, offset);

    /// <summary>The kernel forward over the streams set (the one block of <see cref="ForwardBlock"/>).</summary>
    public void RunForward() => ForwardBlock(0);

    /// <summary>The kernel backward over the streams set (the one block of <see cref="BackwardBlock"/>), writing the gradients of the externals marked <paramref name="fresh"/>.</summary>
    public void RunBackward(bool[]? fresh)
    {
        this.fresh = fresh;
        BackwardBlock(0, everything: false);
    }

    // The generated kernel's view of the same buffers (GroupKernel's stream numbering). The arrays rarely change from
    // step to step; storing one into the array of arrays costs a type check, so only a changed one is stored.
    private void SetStreams()
    {
        if (kernel is null) return;
        Set(GroupKernel<T>.Kept, values, valuesAt);
        Set(GroupKernel<T>.Scratch, scratch, scratchAt);
        Set(GroupKernel<T>.Gradients, gradients.Length == 0 ? null : gradients, gradientsAt);
        for (int k = 0; k < externals.Length; k++)
        {
            Set(GroupKernel<T>.ExternalValues(k), externals[k].Array, externals[k].Offset);
            Set(GroupKernel<T>.ExternalGradients(k), externals[k].GradientArray, externals[k].GradientOffset);
        }
    }

    private void Set(int stream, T[]? array, int offset)
    {
        if (!ReferenceEquals(streams[stream], array)) streams[stream] = array;
        streamOffsets[stream] = offset;
    }

    private void Run(Action<int> block)
    {
        int threads = Math.Min(Parallelism.MaxThreads, blocks);
        if (threads > 1) WorkerTeam.Run(threads, blocks, block);
        else
            for (int b = 0; b < blocks; b++) block(b);
    }

    private GroupFrame<T> Frame(int rowStart, int rows) =>
        new(values.AsSpan(valuesAt, group.SavedSize), scratch.AsSpan(scratchAt, group.ArenaSize - group.SavedSize),
            gradients.Length == 0 ? default : gradients.AsSpan(gradientsAt, group.ArenaSize), externals, group, rowStart, rows);

    private GroupFrame<T> Block(int b)
    {
        var (start, rows) = Window(b);
        return Frame(start, rows);
    }

    /// <summary>Block b's rows: [Start, Start + Rows).</summary>
    private (int Start, int Rows) Window(int b) => (b * blockRows, Math.Min(blockRows, group.Rows - b * blockRows));

    private void ForwardBlock(int b)
    {
        if (kernel is not null)
        {
            var (start, rows) = Window(b);
            kernel.Forward(streams, streamOffsets, start, rows);
            return;
        }
        var frame = Block(b);
        foreach (var instruction in group.Program) instruction.Forward(frame);
    }

    private void BackwardBlock(int b, bool everything)
    {
        // A generated kernel keeps most inner gradients in registers and clears only those it adds to in memory.
        if (blocks == 1)
            foreach (var (offset, length) in kernel?.ClearedRanges ?? group.InnerRanges) gradients.AsSpan(gradientsAt + offset, length).Clear();
        else
        {
            var cleared = Block(b);
            foreach (int slot in kernel?.ClearedSlots ?? group.InnerSlots) cleared.Grad(slot).Clear();
        }
        if (kernel is not null)
        {
            var (start, rows) = Window(b);
            kernel.Backward(streams, streamOffsets, fresh, start, rows);
            return;
        }
        var frame = Block(b);
        var program = group.Program;
        for (int i = program.Length - 1; i >= 0; i--)
            if (everything || !program[i].SumsOverRows) program[i].Backward(frame);
    }
}
