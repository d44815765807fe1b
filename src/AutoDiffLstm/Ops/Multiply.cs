using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise a * b with NumPy broadcasting.</summary>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b) => a.Multiply(b);
    /// <summary>Scales every element.</summary>
    public static Tensor<T> operator *(Tensor<T> a, T b) => a.Multiply(Tensor.Scalar(b));
    /// <summary>Scales every element.</summary>
    public static Tensor<T> operator *(T a, Tensor<T> b) => b.Multiply(Tensor.Scalar(a));

    /// <summary>Elementwise this * other with NumPy broadcasting.</summary>
    public Tensor<T> Multiply(Tensor<T> other)
    {
        var y = Elementwise.Binary<T, MultiplySpans<T>>("Multiply", this, other);
        Tape.Record(MultiplyRule<T>.Instance, y, this, other);
        return y;
    }
}

/// <summary>y = a * b: dy/da = b, dy/db = a.</summary>
internal struct MultiplyFormula : IBinaryFormula
{
    public static string Name => "Multiply";
    public static bool ReadsOperands => true;
    public static bool ReadsOutput => false;
    public static V Apply<V>(V a, V b) where V : struct, IValue<V> => a * b;
    public static V ChainA<V>(V g, V a, V b, V y) where V : struct, IValue<V> => g * b;
    public static V ChainB<V>(V g, V a, V b, V y) where V : struct, IValue<V> => g * a;
}

/// <summary>The fast backward kernels over broadcast shapes; forward mode, the recorded backward and the fused kernels come from <see cref="MultiplyFormula"/>.</summary>
internal sealed class MultiplyRule<T> : BinaryRule<T, MultiplyFormula> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly MultiplyRule<T> Instance = new();

    protected override Tensor<T> Apply(Tensor<T> a, Tensor<T> b) => a.Multiply(b);

    // da += dy * b, db += dy * a (reduced over broadcast dimensions).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) Accumulate(y, b, a);
        if (b.RequiresGrad) Accumulate(y, a, b);
    }

    private static void Accumulate(Tensor<T> y, Tensor<T> other, Tensor<T> target)
    {
        if (other.Size == y.Size && target.Size == y.Size) Kernels.MultiplyInto(y.GradData!, other.AsSpan(), target.GradSink());
        else Elementwise.AccumulateBroadcast<T, MultiplySpans<T>>(y.GradData!, y.Dims, other, target);
    }
}
