using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Matrix product op(this) @ op(other), where op transposes the last two dimensions when asked (without copying).
    /// Shapes: [M,K] @ [K,N] -> [M,N]; [..., M, K] @ [K,N] -> [..., M, N] (leading dimensions flattened);
    /// [B, M, K] @ [B, K, N] -> [B, M, N] (batched).
    /// </summary>
    public Tensor<T> MatMul(Tensor<T> other, bool transposeThis = false, bool transposeOther = false)
    {
        var p = MatMulPlan.Of("MatMul", Dims, other.Dims, transposeThis, transposeOther);
        var y = Uninitialized(p.OutShape);
        for (int s = 0; s < p.Batch; s++)
            Gemm.Run(Data, s * p.M * p.K, transposeThis, other.Data, p.BatchedB ? s * p.K * p.N : 0, transposeOther, y.Data, s * p.M * p.N, p.M, p.N, p.K, accumulate: false,
                constantB: other.IsLeaf);
        Tape.Record(MatMulRule<T>.Instance, y, this, other, aux: p); // Aux: the plan (MatMulRule.Plan)
        return y;
    }
}

/// <summary>The sizes of a (possibly batched) matrix product, resolved once in forward and reused by backward.</summary>
internal sealed record MatMulPlan(int Batch, int M, int N, int K, bool TransA, bool TransB, bool BatchedB, int[] OutShape)
{
    public static MatMulPlan Of(string op, int[] a, int[] b, bool ta, bool tb)
    {
        string Shapes() => $"{op}: shapes {ShapeMath.Format(a)}{(ta ? "^T" : "")} and {ShapeMath.Format(b)}{(tb ? "^T" : "")}";
        if (a.Length < 2 || b.Length < 2 || b.Length > 3 || (b.Length == 3 && a.Length != 3))
            throw new ArgumentException($"{Shapes()} are not supported: expected [M,K]@[K,N], [...,M,K]@[K,N] or [B,M,K]@[B,K,N].");
        int ar = a.Length;
        int m = ta ? a[ar - 1] : a[ar - 2], ka = ta ? a[ar - 2] : a[ar - 1];
        int br = b.Length;
        int kb = tb ? b[br - 1] : b[br - 2], n = tb ? b[br - 2] : b[br - 1];
        if (ka != kb) throw new ArgumentException($"{Shapes()} do not fit: inner dimensions {ka} and {kb} differ.");
        if (br == 3)
        {
            if (a[0] != b[0]) throw new ArgumentException($"{Shapes()} do not fit: batch sizes {a[0]} and {b[0]} differ.");
            return new(a[0], m, n, ka, ta, tb, true, [a[0], m, n]);
        }
        int batch = 1;
        for (int i = 0; i < ar - 2; i++) batch *= a[i];
        var outShape = (int[])a.Clone();
        outShape[^2] = m;
        outShape[^1] = n;
        if (ta || batch == 1) return new(batch, m, n, ka, ta, tb, false, outShape);
        // Leading dimensions of a non-transposed A fold into M: one big product instead of many small ones.
        return new(1, batch * m, n, ka, false, tb, false, outShape);
    }
}

internal sealed class MatMulRule<T> : BackwardRule<T>, IReplayableRule where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The product's plan: transposes, batch layout (slot Aux).</summary>
    private static MatMulPlan Plan(in TapeEntry e) => (MatMulPlan)e.Aux!;

    public TensorBase Replay(in TapeEntry e)
    {
        var plan = Plan(e);
        return e.InA<T>().MatMul(e.InB<T>(), plan.TransA, plan.TransB);
    }

    public static readonly MatMulRule<T> Instance = new();
    public override string Name => "MatMul";

    // C = op(A) op(B):  dop(A) = dC op(B)^T,  dop(B) = op(A)^T dC; the transposes become Gemm flags, never copies.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b, p) = (e.InA<T>(), e.InB<T>(), Plan(e));
        var dc = y.GradData!;
        int m = p.M, n = p.N, k = p.K;
        for (int s = 0; s < p.Batch; s++)
        {
            int ao = s * m * k, bo = p.BatchedB ? s * k * n : 0, co = s * m * n;
            if (a.RequiresGrad)
            {
                var ga = a.GradSink().ZeroedArray();
                if (!p.TransA) Gemm.Run(dc, co, false, b.Data, bo, !p.TransB, ga, ao, m, k, n, accumulate: true, constantB: b.IsLeaf);
                else Gemm.Run(b.Data, bo, p.TransB, dc, co, true, ga, ao, k, m, n, accumulate: true);
            }
            if (b.RequiresGrad)
            {
                var gb = b.GradSink().ZeroedArray();
                if (!p.TransB) Gemm.Run(a.Data, ao, !p.TransA, dc, co, false, gb, bo, k, n, m, accumulate: true);
                else Gemm.Run(dc, co, true, a.Data, ao, p.TransA, gb, bo, n, k, m, accumulate: true, constantB: a.IsLeaf);
            }
        }
    }

    // dC = dop(A) op(B) + op(A) dop(B)
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (a, b, p) = (e.InA<T>(), e.InB<T>(), Plan(e));
        var (ta, tb) = (t.Of<T>(a), t.Of<T>(b));
        var fromA = ta?.MatMul(b, p.TransA, p.TransB);
        var fromB = tb is null ? null : a.MatMul(tb, p.TransA, p.TransB);
        return fromA is null ? fromB : fromB is null ? fromA : fromA + fromB;
    }

    // dop(A) = dC op(B)^T, dop(B) = op(A)^T dC summed over A's leading dimensions when B is shared
    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b, p) = (e.InA<T>(), e.InB<T>(), Plan(e));
        if (a.RequiresGrad)
        {
            var dOpA = dy.MatMul(b, false, !p.TransB); // [..., M, K]
            sink.Add(Name, a, p.TransA ? dOpA.Transpose(-2, -1) : dOpA);
        }
        if (!b.RequiresGrad) return;
        if (b.Rank == 2 && !p.TransA)
        {
            // A shared matrix (a weight): dop(B) = A^T dC over A's rows, kept as factors and summed over uses in one
            // product when read (Cotangents.AddProduct); dB = dC^T A when B entered transposed.
            var rowsA = a.ReshapeTo([a.Size / a.Dims[^1], a.Dims[^1]]);
            var rowsDy = dy.ReshapeTo([dy.Size / dy.Dims[^1], dy.Dims[^1]]);
            if (p.TransB) sink.AddProduct(Name, b, rowsDy, rowsA);
            else sink.AddProduct(Name, b, rowsA, rowsDy);
            return;
        }
        Tensor<T> dOpB;
        if (b.Rank == 3 || a.Rank == 2) dOpB = a.MatMul(dy, !p.TransA, false);
        else if (!p.TransA) dOpB = a.ReshapeTo([a.Size / a.Dims[^1], a.Dims[^1]]).MatMul(dy.ReshapeTo([dy.Size / dy.Dims[^1], dy.Dims[^1]]), transposeThis: true);
        else
        {
            int batch = a.Size / (a.Dims[^1] * a.Dims[^2]);
            dOpB = a.ReshapeTo([batch, a.Dims[^2], a.Dims[^1]]).MatMul(dy.ReshapeTo([batch, dy.Dims[^2], dy.Dims[^1]])).Sum(0);
        }
        sink.Add(Name, b, p.TransB ? dOpB.Transpose(-2, -1) : dOpB);
    }
}
