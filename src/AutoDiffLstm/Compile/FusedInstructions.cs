using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// The memory one execution of a fused group works in: every value of the group is a slot of one arena (the group's
/// saved values, kept for backward), its inputs are external values read in place: whole tensors (one step run on its
/// own) or spans of a whole sequence's buffers (<see cref="CompiledSequence{T}"/>). An operand is a slot index (>= 0)
/// or the bitwise complement of an external's index.
/// </summary>
/// <remarks>
/// Every value of a group has the group's row count (<see cref="FusedGroup{T}.Rows"/>), so a frame can also be a
/// window of rows [rowStart, rowStart + Rows): each operand is then its rows in that window, which is contiguous in
/// row-major storage. Broadcast sources (a bias row, a scalar) are read whole (<see cref="FusedGroup{T}.ExternalCols"/>
/// is 0 for them). <see cref="GroupBlocks{T}"/> runs a large group one window per thread.
/// </remarks>
internal readonly ref struct GroupFrame<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Span<T> saved, scratch, gradients;
    private readonly TensorBase[]? tensors;
    private readonly ExternalSpan<T>[]? spans;
    private readonly int[] offsets, cols, externalCols;   // the group's layout, read on every operand access
    private readonly int savedSize, rowStart;

    /// <summary>The rows this frame covers.</summary>
    public int Rows { get; }

    /// <summary>The whole group in one arena (its <see cref="FusedGroup{T}.ArenaSize"/> values) over its externals' tensors (one step run on its own).</summary>
    public GroupFrame(Span<T> arena, Span<T> gradients, TensorBase[] externals, FusedGroup<T> group)
    {
        saved = arena[..group.SavedSize];
        scratch = arena[group.SavedSize..];
        this.gradients = gradients;
        (tensors, Rows) = (externals, group.Rows);
        (offsets, cols, externalCols, savedSize) = (group.SlotOffsets, group.SlotCols, group.ExternalCols, group.SavedSize);
    }

    /// <summary>
    /// Rows [rowStart, rowStart + rows) of the group over spans of larger buffers: the arena's kept part
    /// (<see cref="FusedGroup{T}.SavedSize"/> values) in a sequence's saved step, the rest in scratch; gradients in the full layout.
    /// </summary>
    public GroupFrame(Span<T> saved, Span<T> scratch, Span<T> gradients, ExternalSpan<T>[] externals, FusedGroup<T> group, int rowStart, int rows)
    {
        this.saved = saved;
        this.scratch = scratch;
        this.gradients = gradients;
        (spans, this.rowStart, Rows) = (externals, rowStart, rows);
        (offsets, cols, externalCols, savedSize) = (group.SlotOffsets, group.SlotCols, group.ExternalCols, group.SavedSize);
    }

    public ReadOnlySpan<T> Value(int operand) =>
        operand >= 0 ? Slot(operand) : External(spans is null ? ((Tensor<T>)tensors![~operand]).Data : spans[~operand].Values, ~operand);

    public Span<T> Slot(int slot)
    {
        int offset = offsets[slot];
        return offset < savedSize ? Window(saved, offset, slot) : Window(scratch, offset - savedSize, slot);
    }

    /// <summary>Where the gradient of an operand accumulates; empty when it needs none (a constant, a mask).</summary>
    public Span<T> Grad(int operand)
    {
        if (operand >= 0) return Window(gradients, offsets[operand], operand);
        if (spans is not null) return External(spans[~operand].Grad, ~operand);
        var t = (Tensor<T>)tensors![~operand];
        return t.RequiresGrad ? External(t.GradBuffer(), ~operand) : Span<T>.Empty;
    }

    private Span<T> Window(Span<T> memory, int offset, int slot)
    {
        int width = cols[slot];
        return memory.Slice(offset + rowStart * width, Rows * width);
    }

    private Span<T> External(Span<T> whole, int k)
    {
        int width = externalCols[k];
        return width == 0 || whole.IsEmpty ? whole : whole.Slice(rowStart * width, Rows * width);
    }

    private ReadOnlySpan<T> External(ReadOnlySpan<T> whole, int k)
    {
        int width = externalCols[k];
        return width == 0 ? whole : whole.Slice(rowStart * width, Rows * width);
    }
}

/// <summary>An external value of a fused group inside a larger buffer: <paramref name="length"/> values at <paramref name="offset"/>, and where its gradient accumulates (null: it needs none).</summary>
internal readonly struct ExternalSpan<T>(T[] values, int offset, int length, T[]? gradients = null, int gradientOffset = 0) where T : unmanaged
{
    public T[] Array => values;
    public int Offset => offset;
    public T[]? GradientArray => gradients;
    public int GradientOffset => gradientOffset;

    public ReadOnlySpan<T> Values => values.AsSpan(offset, length);

    public Span<T> Grad => gradients is null ? Span<T>.Empty : gradients.AsSpan(gradientOffset, length);
}

/// <summary>
/// The forward-mode tangents of one execution of a fused group: the same slot layout as its values, in an arena that
/// starts at zero. A zero tangent (an external that carries none, a slot no tangent reached) reads as an empty span,
/// so an instruction whose operands all have zero tangents costs nothing. External tangents are whole tensors (one
/// step run on its own) or spans of a whole sequence's buffers (<see cref="CompiledSequence{T}"/>; an empty span is zero).
/// </summary>
internal readonly ref struct TangentFrame<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Span<T> arena;
    private readonly bool[] reached;
    private readonly Tensor<T>?[]? tensors;
    private readonly ExternalSpan<T>[]? spans;
    private readonly int[] offsets, lengths;

    public TangentFrame(Span<T> arena, bool[] reached, Tensor<T>?[] externals, FusedGroup<T> group)
    {
        this.arena = arena;
        (this.reached, tensors, offsets, lengths) = (reached, externals, group.SlotOffsets, group.SlotLengths);
    }

    public TangentFrame(Span<T> arena, bool[] reached, ExternalSpan<T>[] externals, FusedGroup<T> group)
    {
        this.arena = arena;
        (this.reached, spans, offsets, lengths) = (reached, externals, group.SlotOffsets, group.SlotLengths);
    }

    /// <summary>The tangent of an operand, or an empty span when it is zero.</summary>
    public ReadOnlySpan<T> Of(int operand) =>
        operand >= 0 ? (reached[operand] ? arena.Slice(offsets[operand], lengths[operand]) : default)
        : spans is not null ? spans[~operand].Values : tensors![~operand] is { } t ? t.Data : default;

    /// <summary>The slot's tangent, still zero, marked as reached.</summary>
    public Span<T> Reach(int slot)
    {
        reached[slot] = true;
        return arena.Slice(offsets[slot], lengths[slot]);
    }
}

/// <summary>One step of a fused group's program, over the frame's rows; backward adds into its operands' gradients.</summary>
internal abstract class FusedInstruction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Destination { get; init; }

    /// <summary>
    /// Whether backward adds values of different rows into one (a broadcast row or scalar summed back): then it must see
    /// every row, in order, so <see cref="GroupBlocks{T}"/> runs it after the blocks of rows, over all of them.
    /// </summary>
    public virtual bool SumsOverRows => false;

    /// <summary>The values the instruction reads: slot indices, or the bitwise complement of an external's index; one entry per read.</summary>
    public abstract IReadOnlyList<int> Operands { get; }

    /// <summary>
    /// The operands whose values backward (and forward mode) reads. A group keeps only these and the values read outside
    /// it; the rest of a whole sequence's step lives in scratch memory that the next step overwrites.
    /// </summary>
    public virtual IEnumerable<int> ReadInBackward => [];

    public abstract void Forward(GroupFrame<T> f);

    public abstract void Backward(GroupFrame<T> f);

    /// <summary>Forward mode: the destination's tangent from the operands' tangents (<paramref name="f"/> holds the values the forward computed).</summary>
    public abstract void Tangent(GroupFrame<T> f, TangentFrame<T> t);

    /// <summary>The instruction as text, e.g. <c>s3 = Sigmoid(s2)</c>.</summary>
    public abstract string Describe(Func<int, string> operand);
}

/// <summary>An elementwise primitive from its own declaration (<see cref="IElementwiseKernel{T}"/>).</summary>
internal sealed class ElementwiseInstruction<T>(IElementwiseKernel<T> kernel, string name, int a, int b, double p, double q) : FusedInstruction<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public IElementwiseKernel<T> Kernel => kernel;
    public string Name => name;
    public int A => a;
    public int B => b;
    public double P => p;
    public double Q => q;

    public override void Forward(GroupFrame<T> f) =>
        kernel.Forward(f.Value(a), kernel.Arity == 2 ? f.Value(b) : default, f.Slot(Destination), p, q);

    public override IReadOnlyList<int> Operands { get; } = kernel.Arity == 2 ? [a, b] : [a];

    // As the primitive declares: Sigmoid's derivative reads its output, Multiply's its operands, Add's nothing.
    public override IEnumerable<int> ReadInBackward =>
        (kernel.BackwardReadsOperands ? Operands : []).Concat(kernel.BackwardReadsOutput ? [Destination] : []);

    public override void Backward(GroupFrame<T> f)
    {
        var g = f.Grad(Destination);
        var ga = f.Grad(a);
        var gb = kernel.Arity == 2 ? f.Grad(b) : default;
        if (ga.IsEmpty && gb.IsEmpty) return;
        kernel.Backward(g, f.Value(a), kernel.Arity == 2 ? f.Value(b) : default, f.Value(Destination), ga, gb, p, q);
    }

    // An elementwise Jacobian is diagonal, so J v = J^T v: the declared chain rule (g * df/da, g * df/db) applied to the
    // operands' tangents gives dy = df/da da + df/db db, accumulated into the destination's zero tangent.
    public override void Tangent(GroupFrame<T> f, TangentFrame<T> t)
    {
        var ta = t.Of(a);
        var tb = kernel.Arity == 2 ? t.Of(b) : default;
        if (ta.IsEmpty && tb.IsEmpty) return;
        var dy = t.Reach(Destination);
        ReadOnlySpan<T> va = f.Value(a), vb = kernel.Arity == 2 ? f.Value(b) : default, vy = f.Value(Destination);
        if (!ta.IsEmpty) kernel.Backward(ta, va, vb, vy, dy, default, p, q);
        if (!tb.IsEmpty) kernel.Backward(tb, va, vb, vy, default, dy, p, q);
    }

    public override string Describe(Func<int, string> operand) =>
        $"{operand(Destination)} = {name}({operand(a)}{(kernel.Arity == 2 ? ", " + operand(b) : "")})";
}

/// <summary>How an operand is broadcast over [rows, cols].</summary>
internal enum Broadcast { Row, Scalar, Column }

/// <summary>Broadcasting made explicit: a bias row, a scalar or a per-row column filled out to [rows, cols]; backward sums it back.</summary>
internal sealed class ExpandInstruction<T>(int source, Broadcast kind, int cols) : FusedInstruction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Source => source;
    public Broadcast Kind => kind;

    public override IReadOnlyList<int> Operands { get; } = [source];

    public override bool SumsOverRows => kind != Broadcast.Column;

    public override void Forward(GroupFrame<T> f) => Fill(f.Value(source), f.Slot(Destination), f.Rows);

    private void Fill(ReadOnlySpan<T> src, Span<T> dst, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = dst.Slice(r * cols, cols);
            switch (kind)
            {
                case Broadcast.Row: src.CopyTo(row); break;
                case Broadcast.Scalar: row.Fill(src[0]); break;
                default: row.Fill(src[r]); break;
            }
        }
    }

    public override void Backward(GroupFrame<T> f)
    {
        var gs = f.Grad(source);
        if (gs.IsEmpty) return;
        var g = f.Grad(Destination);
        for (int r = 0; r < f.Rows; r++)
        {
            var row = g.Slice(r * cols, cols);
            switch (kind)
            {
                case Broadcast.Row: Kernels.AddInto(gs, row); break;
                case Broadcast.Scalar: gs[0] += TP.Sum<T>(row); break;
                default: gs[r] += TP.Sum<T>(row); break;
            }
        }
    }

    // Linear: the tangent is broadcast as the value is.
    public override void Tangent(GroupFrame<T> f, TangentFrame<T> t)
    {
        var src = t.Of(source);
        if (!src.IsEmpty) Fill(src, t.Reach(Destination), f.Rows);
    }

    public override string Describe(Func<int, string> operand) => $"{operand(Destination)} = Expand{kind}({operand(source)})";
}

/// <summary>Columns [start, start + width) of every row (Narrow or Chunk on the last axis).</summary>
internal sealed class NarrowInstruction<T>(int source, int sourceCols, int start, int width) : FusedInstruction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Source => source;
    public int Start => start;
    public int Width => width;

    public override IReadOnlyList<int> Operands { get; } = [source];

    public override void Forward(GroupFrame<T> f) => Columns(f.Value(source), f.Slot(Destination), f.Rows);

    private void Columns(ReadOnlySpan<T> src, Span<T> dst, int rows)
    {
        for (int r = 0; r < rows; r++) src.Slice(r * sourceCols + start, width).CopyTo(dst.Slice(r * width, width));
    }

    public override void Backward(GroupFrame<T> f)
    {
        var gs = f.Grad(source);
        if (gs.IsEmpty) return;
        var g = f.Grad(Destination);
        for (int r = 0; r < f.Rows; r++)
        {
            Kernels.AddInto(gs.Slice(r * sourceCols + start, width), g.Slice(r * width, width));
        }
    }

    // Linear: the tangent's columns, as the value's.
    public override void Tangent(GroupFrame<T> f, TangentFrame<T> t)
    {
        var src = t.Of(source);
        if (!src.IsEmpty) Columns(src, t.Reach(Destination), f.Rows);
    }

    public override string Describe(Func<int, string> operand) => $"{operand(Destination)} = {operand(source)}[:, {start}:{start + width}]";
}

/// <summary>Parts side by side along the last axis.</summary>
internal sealed class ConcatInstruction<T>(int[] parts, int[] widths) : FusedInstruction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int cols = widths.Sum();

    public override IReadOnlyList<int> Operands => parts;

    public override void Forward(GroupFrame<T> f)
    {
        var dst = f.Slot(Destination);
        for (int p = 0, offset = 0; p < parts.Length; offset += widths[p], p++) Place(f.Value(parts[p]), dst, p, offset, f.Rows);
    }

    private void Place(ReadOnlySpan<T> part, Span<T> dst, int p, int offset, int rows)
    {
        for (int r = 0; r < rows; r++) part.Slice(r * widths[p], widths[p]).CopyTo(dst.Slice(r * cols + offset, widths[p]));
    }

    public override void Backward(GroupFrame<T> f)
    {
        var g = f.Grad(Destination);
        for (int p = 0, offset = 0; p < parts.Length; offset += widths[p], p++)
        {
            var gp = f.Grad(parts[p]);
            if (gp.IsEmpty) continue;
            for (int r = 0; r < f.Rows; r++)
            {
                Kernels.AddInto(gp.Slice(r * widths[p], widths[p]), g.Slice(r * cols + offset, widths[p]));
            }
        }
    }

    // Linear: the parts' tangents side by side; a part with a zero tangent leaves its columns zero.
    public override void Tangent(GroupFrame<T> f, TangentFrame<T> t)
    {
        bool any = false;
        foreach (int part in parts) any |= !t.Of(part).IsEmpty;
        if (!any) return;
        var dst = t.Reach(Destination);
        for (int p = 0, offset = 0; p < parts.Length; offset += widths[p], p++)
            if (t.Of(parts[p]) is { IsEmpty: false } src) Place(src, dst, p, offset, f.Rows);
    }

    public override string Describe(Func<int, string> operand) => $"{operand(Destination)} = Concat({string.Join(", ", parts.Select(operand))})";
}
