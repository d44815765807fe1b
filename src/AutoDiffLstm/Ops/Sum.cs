using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Sum of all elements (a scalar).</summary>
    public Tensor<T> Sum()
    {
        var y = ScalarOutput(TP.Sum<T>(Data));
        Tape.Record(SumRule<T>.Instance, y, this, i0: -1); // I0: -1, all elements (SumRule.Axis)
        return y;
    }

    /// <summary>Sum along <paramref name="axis"/>; the dimension is removed unless <paramref name="keepDim"/>.</summary>
    public Tensor<T> Sum(int axis, bool keepDim = false)
    {
        int ax = ShapeMath.NormalizeAxis("Sum", axis, Rank);
        var dims = keepDim ? Dims.Select((d, i) => i == ax ? 1 : d).ToArray() : Dims.Where((_, i) => i != ax).ToArray();
        var y = Uninitialized(dims);
        var (outer, n, inner) = ShapeMath.AroundAxis(Dims, ax);
        for (int o = 0; o < outer; o++)
        {
            var dst = y.Data.AsSpan(o * inner, inner);
            if (inner == 1) { dst[0] = TP.Sum<T>(Data.AsSpan(o * n, n)); continue; }
            dst.Clear();
            for (int j = 0; j < n; j++) TP.Add(dst, Data.AsSpan((o * n + j) * inner, inner), dst);
        }
        Tape.Record(SumRule<T>.Instance, y, this, i0: ax); // I0: axis (SumRule.Axis)
        return y;
    }

    /// <summary><paramref name="dims"/> with dimension <paramref name="axis"/> set to 1 (a sum's shape with keepDim).</summary>
    internal static int[] KeptDims(int[] dims, int axis) => dims.Select((d, i) => i == axis ? 1 : d).ToArray();

    /// <summary>Mean of all elements (a scalar).</summary>
    public Tensor<T> Mean() => Sum() * T.CreateChecked(1.0 / Math.Max(1, Size));

    /// <summary>Mean along <paramref name="axis"/>.</summary>
    public Tensor<T> Mean(int axis, bool keepDim = false) =>
        Sum(axis, keepDim) * T.CreateChecked(1.0 / Dims[ShapeMath.NormalizeAxis("Mean", axis, Rank)]);
}

internal sealed class SumRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The summed axis, or -1 for a sum over every element (slot I0).</summary>
    private static int Axis(in TapeEntry e) => e.I0;

    public TensorBase Replay(in TapeEntry e) =>
        Axis(e) < 0 ? e.InA<T>().Sum() : e.InA<T>().Sum(Axis(e), keepDim: e.Output.Rank == e.A!.Rank);

    public static readonly SumRule<T> Instance = new();
    public override string Name => "Sum";

    // dx[o, j, i] += dy[o, i]  (every summed element receives the gradient of its sum)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        var sink = x.GradSink();
        // Every element gets dy, in write mode: no zero-fill first (a loss's sum over a whole sequence's outputs is 13 MB at W1).
        if (Axis(e) < 0) { sink.AddToEvery(dy[0]); return; }
        var g = sink.Zeroed();
        var (outer, n, inner) = ShapeMath.AroundAxis(x.Dims, Axis(e));
        for (int o = 0; o < outer; o++)
        {
            var src = dy.Slice(o * inner, inner);
            for (int j = 0; j < n; j++)
            {
                var dst = g.Slice((o * n + j) * inner, inner);
                if (inner == 1) dst[0] += src[0];
                else TP.Add(dst, src, dst);
            }
        }
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var tx = t.Of<T>(e.A)!;
        return Axis(e) < 0 ? tx.Sum() : tx.Sum(Axis(e), keepDim: y.Rank == tx.Rank);
    }

    // dx = dy broadcast back over the summed axis
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var x = e.InA<T>();
        var kept = Axis(e) < 0 ? dy : dy.ReshapeTo(Tensor<T>.KeptDims(x.Dims, Axis(e)));
        sink.Add(Name, x, kept.ExpandTo(x.Dims));
    }
}
