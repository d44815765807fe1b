using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Fused affine map x @ W^T + b, the layout of PyTorch's nn.Linear and of every RNN input/recurrent projection:
    /// x is [..., In], W is [Out, In], b (optional) is [Out]; the result is [..., Out].
    /// </summary>
    public Tensor<T> Linear(Tensor<T> weight, Tensor<T>? bias = null)
    {
        int inF = Dims.Length == 0 ? -1 : Dims[^1];
        if (weight.Rank != 2 || weight.Dims[1] != inF || (bias is not null && (bias.Rank != 1 || bias.Dims[0] != weight.Dims[0])))
            throw new ArgumentException(
                $"Linear: input {ShapeText}, weight {weight.ShapeText}{(bias is null ? "" : $", bias {bias.ShapeText}")} do not fit; expected input [..., In], weight [Out, In], bias [Out].");
        int outF = weight.Dims[0], rows = 1;
        for (int i = 0; i < Dims.Length - 1; i++) rows *= Dims[i];
        var dims = (int[])Dims.Clone();
        dims[^1] = outF;
        var y = Uninitialized(dims);
        // Each row starts from the bias, which the product's first depth block adds its sums to: one pass over y.
        Gemm.Run(Data, 0, false, weight.Data, 0, true, y.Data, 0, rows, outF, inF, accumulate: false, constantB: weight.IsLeaf, bias: bias?.Data);
        Tape.Record(LinearRule<T>.Instance, y, this, weight, bias, i0: rows); // I0: rows (LinearRule.Rows)
        return y;
    }
}

internal sealed class LinearRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows of the flattened input (slot I0).</summary>
    private static int Rows(in TapeEntry e) => e.I0;

    public TensorBase Replay(in TapeEntry e) => e.InA<T>().Linear(e.InB<T>(), (Tensor<T>?)e.C);

    public static readonly LinearRule<T> Instance = new();

    /// <summary>Every one of <paramref name="rows"/> rows of <paramref name="y"/> set to <paramref name="bias"/>: where the products then accumulate.</summary>
    internal static void CopyToRows(Tensor<T> bias, T[] y, int rows)
    {
        Kernels.RepeatRows<T>(bias.Data, y.AsSpan(0, rows * bias.Size));
    }
    public override string Name => "Linear";

    // y = x W^T + b:  dx += dy W,  dW += dy^T x,  db += sum over rows of dy.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (x, w) = (e.InA<T>(), e.InB<T>());
        var b = (Tensor<T>?)e.C;
        int rows = Rows(e), outF = w.Dims[0], inF = w.Dims[1];
        var g = y.GradData!;
        if (x.RequiresGrad)
        {
            var dx = x.GradSink();
            Gemm.Run(g, 0, false, w.Data, 0, false, dx.Array, 0, rows, inF, outF, accumulate: !dx.Overwrite, constantB: w.IsLeaf);
        }
        // A recurrence's per-step products have few rows: their dW joins the pass's batch (one deep product per weight).
        if (w.RequiresGrad && !WeightGradientBatch.TryDefer(w, g, x.Data, rows))
        {
            var dw = w.GradSink();
            Gemm.Run(g, 0, true, x.Data, 0, false, dw.Array, 0, outF, inF, rows, accumulate: !dw.Overwrite);
        }
        if (b is not null && b.RequiresGrad)
        {
            Kernels.AddRows(dy[..(rows * outF)], b.GradSink().Zeroed());
        }
    }

    // dy = dx W^T + x dW^T + db
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (x, w) = (e.InA<T>(), e.InB<T>());
        var (tx, tw, tb) = (t.Of<T>(x), t.Of<T>(w), t.Of<T>(e.C));
        if (tx is null && tw is null && tb is null) return null;
        if (Autograd.IsGradEnabled)
        {
            // A tangent that must itself be differentiable: the same sum as recorded operations.
            Tensor<T>? sum = tx?.Linear(w);
            if (tw is null && tb is null) return sum;
            var rest = x.Linear(tw ?? Tensor.Zeros<T>(w.Dims), tb);
            return sum is null ? rest : sum + rest;
        }
        // Unrecorded (Autograd.Jvp, the HVP's tangent pass): the terms accumulate into one buffer, as the forward
        // accumulates its product onto the bias, instead of two products and a sum per step.
        int rows = Rows(e), outF = w.Dims[0], inF = w.Dims[1];
        var dy = Tensor<T>.Uninitialized((int[])y.Dims.Clone());
        if (tx is null && tw is null) CopyToRows(tb!, dy.Data, rows);
        if (tx is not null) Gemm.Run(tx.Data, 0, false, w.Data, 0, true, dy.Data, 0, rows, outF, inF, accumulate: false, constantB: w.IsLeaf, bias: tb?.Data);
        if (tw is not null)
            Gemm.Run(x.Data, 0, false, tw.Data, 0, true, dy.Data, 0, rows, outF, inF, accumulate: tx is not null, constantB: tw.IsLeaf, bias: tx is null ? tb?.Data : null);
        return dy;
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (x, w) = (e.InA<T>(), e.InB<T>());
        var b = (Tensor<T>?)e.C;
        int outF = w.Dims[0], inF = w.Dims[1];
        var rows = dy.ReshapeTo([Rows(e), outF]);
        if (x.RequiresGrad) sink.Add(Name, x, rows.MatMul(w).ReshapeTo(x.Dims));
        if (w.RequiresGrad) sink.AddProduct(Name, w, rows, x.ReshapeTo([Rows(e), inF])); // dW = dy^T x, summed over uses when read
        if (b is not null && b.RequiresGrad) sink.Add(Name, b, rows.Sum(0));
    }
}
