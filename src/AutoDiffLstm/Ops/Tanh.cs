using System.Numerics;
using System.Runtime.Intrinsics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise hyperbolic tangent.</summary>
    public Tensor<T> Tanh() => Unary.Apply<T, TanhFormula>(this);
}

/// <summary>d/dx tanh x = 1 - tanh^2 x = 1 - y^2</summary>
internal struct TanhFormula : IUnaryFormula
{
    public static string Name => "Tanh";
    public static bool ReadsInput => false;
    public static bool ReadsOutput => true;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => Activations.Tanh<T>(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g * (V.Constant(1) - y * y);

    // Only where Forward itself runs our single-precision kernel (float on AVX-512 or AVX2); elsewhere it is TensorPrimitives',
    // whose vector code is not ours to call one vector at a time.
    public static bool HasVectorForward<T>() where T : unmanaged, IFloatingPointIeee754<T> => Activations.HasOwnKernel<T>();
    public static Vector512<T> VectorForward<T>(Vector512<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        Activations.TanhVector(x.As<T, float>()).As<float, T>();
    public static Vector256<T> VectorForward<T>(Vector256<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        Activations.TanhVector(x.As<T, float>()).As<float, T>();
}
