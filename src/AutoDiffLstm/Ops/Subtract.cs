using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise a - b with NumPy broadcasting.</summary>
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b) => a.Subtract(b);
    /// <summary>Subtracts a constant from every element.</summary>
    public static Tensor<T> operator -(Tensor<T> a, T b) => a.Subtract(Tensor.Scalar(b));
    /// <summary>A constant minus every element.</summary>
    public static Tensor<T> operator -(T a, Tensor<T> b) => Tensor.Scalar(a).Subtract(b);

    /// <summary>Elementwise this - other with NumPy broadcasting.</summary>
    public Tensor<T> Subtract(Tensor<T> other)
    {
        var y = Elementwise.Binary<T, SubtractSpans<T>>("Subtract", this, other);
        Tape.Record(SubtractRule<T>.Instance, y, this, other);
        return y;
    }
}

internal sealed class SubtractRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SubtractRule<T> Instance = new();
    public override string Name => "Subtract";

    // da += dy, db -= dy (reduced over broadcast dimensions).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) Kernels.ReduceToShape(dy, y.Dims, a.GradBuffer(), a.Dims);
        if (!b.RequiresGrad) return;
        var negated = BufferPool<T>.Rent(dy.Length);
        TP.Negate(dy, negated);
        Kernels.ReduceToShape<T>(negated, y.Dims, b.GradBuffer(), b.Dims);
        BufferPool<T>.Return(negated);
    }

    // dy = da - db
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (ta, tb) = (t.Of<T>(e.A), t.Of<T>(e.B));
        var diff = tb is null ? ta! : ta is null ? -tb : ta - tb;
        return diff.ExpandTo(y.Dims);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        sink.Add(Name, a, dy.SumTo(a.Dims));
        if (b.RequiresGrad) sink.Add(Name, b, (-dy).SumTo(b.Dims));
    }
}
