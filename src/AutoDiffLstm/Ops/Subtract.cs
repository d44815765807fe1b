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

/// <summary>y = a - b: dy/da = 1, dy/db = -1.</summary>
internal struct SubtractFormula : IBinaryFormula
{
    public static string Name => "Subtract";
    public static bool ReadsOperands => false;
    public static bool ReadsOutput => false;
    public static V Apply<V>(V a, V b) where V : struct, IValue<V> => a - b;
    public static V ChainA<V>(V g, V a, V b, V y) where V : struct, IValue<V> => g;
    public static V ChainB<V>(V g, V a, V b, V y) where V : struct, IValue<V> => -g;
}

/// <summary>The fast backward kernels over broadcast shapes; forward mode, the recorded backward and the fused kernels come from <see cref="SubtractFormula"/>.</summary>
internal sealed class SubtractRule<T> : BinaryRule<T, SubtractFormula> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SubtractRule<T> Instance = new();

    protected override Tensor<T> Apply(Tensor<T> a, Tensor<T> b) => a.Subtract(b);

    // da += dy, db -= dy (reduced over broadcast dimensions).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) Kernels.ReduceToShape(dy, y.Dims, a.GradSink().Zeroed(), a.Dims);
        if (!b.RequiresGrad) return;
        var negated = BufferPool<T>.Rent(dy.Length);
        TP.Negate(dy, negated);
        Kernels.ReduceToShape<T>(negated, y.Dims, b.GradSink().Zeroed(), b.Dims);
        BufferPool<T>.Return(negated);
    }
}
