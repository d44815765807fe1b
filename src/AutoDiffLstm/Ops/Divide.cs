using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise a / b with NumPy broadcasting.</summary>
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b) => a.Divide(b);
    /// <summary>Divides every element by a constant.</summary>
    public static Tensor<T> operator /(Tensor<T> a, T b) => a.Divide(Tensor.Scalar(b));
    /// <summary>A constant divided by every element.</summary>
    public static Tensor<T> operator /(T a, Tensor<T> b) => Tensor.Scalar(a).Divide(b);

    /// <summary>Elementwise this / other with NumPy broadcasting.</summary>
    public Tensor<T> Divide(Tensor<T> other)
    {
        var y = Elementwise.Binary<T, DivideSpans<T>>("Divide", this, other);
        Tape.Record(DivideRule<T>.Instance, y, this, other);
        return y;
    }
}

/// <summary>y = a / b: dy/da = 1/b, dy/db = -a/b^2 = -y/b.</summary>
internal struct DivideFormula : IBinaryFormula
{
    public static string Name => "Divide";
    public static bool ReadsOperands => true;
    public static bool ReadsOutput => true;
    public static V Apply<V>(V a, V b) where V : struct, IValue<V> => a / b;
    public static V ChainA<V>(V g, V a, V b, V y) where V : struct, IValue<V> => g / b;
    public static V ChainB<V>(V g, V a, V b, V y) where V : struct, IValue<V> => -(g * y) / b;
}

/// <summary>The fast backward kernels over broadcast shapes; forward mode, the recorded backward and the fused kernels come from <see cref="DivideFormula"/>.</summary>
internal sealed class DivideRule<T> : BinaryRule<T, DivideFormula> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly DivideRule<T> Instance = new();

    protected override Tensor<T> Apply(Tensor<T> a, Tensor<T> b) => a.Divide(b);

    // y = a / b:  da += dy / b,  db -= dy * y / b  (reduced over broadcast dimensions).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) Elementwise.AccumulateBroadcast<T, DivideSpans<T>>(y.GradData!, y.Dims, b, a);
        if (!b.RequiresGrad) return;
        var minusDyY = BufferPool<T>.Rent(dy.Length);
        Kernels.Map<T, NegProduct>(dy, y.AsSpan(), minusDyY);
        Elementwise.AccumulateBroadcast<T, DivideSpans<T>>(minusDyY, y.Dims, b, b);
        BufferPool<T>.Return(minusDyY);
    }

    private struct NegProduct : IFused2<T>
    {
        public static T Invoke(T dy, T y) => -(dy * y);
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> y) => -(dy * y);
    }
}
