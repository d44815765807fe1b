using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Swaps two dimensions (a copy in the new row-major order).</summary>
    public Tensor<T> Transpose(int dim0 = -2, int dim1 = -1)
    {
        if (Rank < 2) throw new ArgumentException($"Transpose: needs a tensor of rank >= 2, got shape {ShapeText}.");
        int d0 = ShapeMath.NormalizeAxis("Transpose", dim0, Rank), d1 = ShapeMath.NormalizeAxis("Transpose", dim1, Rank);
        var y = Uninitialized(SwapDims(Dims, d0, d1));
        SwapCopy(Data, Dims, d0, d1, y.Data);
        Tape.Record(TransposeRule<T>.Instance, y, this, i0: d0, i1: d1); // I0, I1: the swapped dims (TransposeRule.Dim0/Dim1)
        return y;
    }

    internal static int[] SwapDims(int[] dims, int d0, int d1)
    {
        var r = (int[])dims.Clone();
        (r[d0], r[d1]) = (r[d1], r[d0]);
        return r;
    }

    /// <summary>dst = src with dimensions d0 and d1 swapped; dst has shape SwapDims(srcDims).</summary>
    internal static void SwapCopy(ReadOnlySpan<T> src, int[] srcDims, int d0, int d1, Span<T> dst)
    {
        if (src.Length == 0) return;
        // Swapping an axis with itself is the identity (as in PyTorch); the index arithmetic below assumes d0 < d1.
        if (d0 == d1) { src.CopyTo(dst); return; }
        if (d0 > d1) (d0, d1) = (d1, d0);
        // View the source as [outer, A, mid, B, inner] with A = dims[d0], B = dims[d1]; the target is [outer, B, mid, A, inner].
        int outer = 1, mid = 1, inner = 1, a = srcDims[d0], b = srcDims[d1];
        for (int i = 0; i < d0; i++) outer *= srcDims[i];
        for (int i = d0 + 1; i < d1; i++) mid *= srcDims[i];
        for (int i = d1 + 1; i < srcDims.Length; i++) inner *= srcDims[i];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < a; i++)
                for (int m = 0; m < mid; m++)
                    for (int j = 0; j < b; j++)
                    {
                        int s = (((o * a + i) * mid + m) * b + j) * inner;
                        int d = (((o * b + j) * mid + m) * a + i) * inner;
                        src.Slice(s, inner).CopyTo(dst.Slice(d, inner));
                    }
    }
}

internal sealed class TransposeRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The first swapped dimension (slot I0).</summary>
    private static int Dim0(in TapeEntry e) => e.I0;
    /// <summary>The second swapped dimension (slot I1).</summary>
    private static int Dim1(in TapeEntry e) => e.I1;

    public TensorBase Replay(in TapeEntry e) => e.InA<T>().Transpose(Dim0(e), Dim1(e));

    public static readonly TransposeRule<T> Instance = new();
    public override string Name => "Transpose";

    // dx += transpose(dy)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var back = BufferPool<T>.Rent(dy.Length);
        Tensor<T>.SwapCopy(dy, y.Dims, Dim0(e), Dim1(e), back);
        var g = e.InA<T>().GradSink().Zeroed();
        TP.Add(g, back, g);
        BufferPool<T>.Return(back);
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t) => t.Of<T>(e.A)!.Transpose(Dim0(e), Dim1(e));

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink) => sink.Add(Name, e.InA<T>(), dy.Transpose(Dim0(e), Dim1(e)));
}
