using System.Numerics;
using System.Runtime.Intrinsics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise -x.</summary>
    public static Tensor<T> operator -(Tensor<T> x) => x.Negate();

    /// <summary>Elementwise -x.</summary>
    public Tensor<T> Negate() => Unary.Apply<T, NegateFormula>(this);
}

/// <summary>d/dx (-x) = -1</summary>
internal struct NegateFormula : IUnaryFormula
{
    public static string Name => "Negate";
    public static bool ReadsInput => false;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Negate(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => -g;

    // A sign flip, lane by lane as TensorPrimitives does it.
    public static bool HasVectorForward<T>() where T : unmanaged, IFloatingPointIeee754<T> => true;
    public static Vector512<T> VectorForward<T>(Vector512<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => -x;
    public static Vector256<T> VectorForward<T>(Vector256<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => -x;
}
