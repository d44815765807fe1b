using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

/// <summary>
/// The tape entry of one whole compiled sequence (<see cref="CompiledSequence{T}"/>): its output is the pass's token (the
/// step's results stacked and concatenated; its storage, the saved values), its inputs the projected inputs (A), then
/// the initial states and the step's captured constants (Aux).
/// </summary>
internal sealed class SequenceRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SequenceRule<T> Instance = new();

    public override string Name => "CompiledSequence";

    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var run = (CompiledSequence<T>.Recorded)e.Extra!;
        run.Sequence.Backward(y, e.InA<T>(), (TensorBase[])e.Aux!, run);
    }

    // Forward mode unrecorded (Autograd.Jvp's tangent pass) runs the steps' tangents directly. A tangent that must itself
    // be differentiable, and the differentiable backward, run the steps again as recorded tensor operations (the compiled
    // program one step at a time, each fused group with its own rules) and go through those.
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents)
    {
        if (!tangents.AnyInput(e)) return null;
        var run = (CompiledSequence<T>.Recorded)e.Extra!;
        if (!Autograd.IsGradEnabled) return run.Sequence.Tangent(y, e.InA<T>(), (TensorBase[])e.Aux!, run, tangents);
        var tape = Tape.Current;
        int start = tape.Count;
        var rebuilt = Rebuild(e);
        tape.PushTangents(start, tape.Count, tangents);
        return tangents.Of<T>(rebuilt);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var tape = Tape.Current;
        int start = tape.Count;
        var rebuilt = Rebuild(e);
        var inputs = e.Inputs().ToArray();
        var local = tape.PullCotangents(rebuilt, dy, new HashSet<TensorBase>(inputs, TensorIdentity.Instance), from: start);
        foreach (var x in inputs.Distinct(TensorIdentity.Instance))
            if (local.Of(x) is Tensor<T> g) sink.Add(Name, (Tensor<T>)x, g);
    }

    // Recorded even inside a pass that is not (a tangent pass runs under NoGrad): the rules above walk the recording.
    private static Tensor<T> Rebuild(in TapeEntry e)
    {
        var run = (CompiledSequence<T>.Recorded)e.Extra!;
        using (Autograd.GradEnabled()) return run.Sequence.Rebuild(e.InA<T>(), (TensorBase[])e.Aux!, run);
    }
}

/// <summary>
/// One result of the step stacked over time, [T, ...], as read from a sequence's token: its gradient is the block of the
/// token's gradient at <see cref="TapeEntry.I0"/> (the token's values are the pass's saved buffer, never read here).
/// </summary>
internal sealed class SequenceStackRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SequenceStackRule<T> Instance = new();

    public override string Name => "SequenceStack";

    // The token's gradient is written only where a stack's gradient arrives (I1: the result, Extra: the pass's record of
    // which have): the first stack to arrive in a backward finds it fresh and copies, instead of a zero-fill of every
    // stack's block and an add onto zeros (the same values but a zero's sign, as GradSink allows).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var reached = ((CompiledSequence<T>.Recorded)e.Extra!).StackReached;
        var sink = e.InA<T>().GradSink();
        if (sink.Overwrite) Array.Clear(reached); // the first stack of this backward: nothing of the token's gradient is written yet
        var block = sink.Span.Slice(e.I0, dy.Length);
        if (reached[e.I1]) TP.Add(block, dy, block);
        else dy.CopyTo(block);
        reached[e.I1] = true;
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents) =>
        tangents.Of<T>(e.A)?.Narrow(0, e.I0, y.Size).Reshape([.. y.Dims]);

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) =>
        sink.AddSlice(Name, e.InA<T>(), 0, e.I0, dy.Reshape(-1));
}
