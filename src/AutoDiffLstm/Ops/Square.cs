using System.Numerics;
using System.Runtime.Intrinsics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise x^2.</summary>
    public Tensor<T> Square() => Unary.Apply<T, SquareFormula>(this);
}

/// <summary>d/dx x^2 = 2 x</summary>
internal struct SquareFormula : IUnaryFormula
{
    public static string Name => "Square";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Multiply(x, x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => (x + x) * g;

    // One rounded product per element, as TensorPrimitives.Multiply(x, x).
    public static bool HasVectorForward<T>() where T : unmanaged, IFloatingPointIeee754<T> => true;
    public static Vector512<T> VectorForward<T>(Vector512<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => x * x;
    public static Vector256<T> VectorForward<T>(Vector256<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => x * x;
}
