using System.Numerics;
using System.Runtime.Intrinsics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise logistic function 1 / (1 + e^-x); saturates to exactly 0 or 1 without overflow for large |x|.</summary>
    public Tensor<T> Sigmoid() => Unary.Apply<T, SigmoidFormula>(this);
}

/// <summary>d/dx sigmoid x = y (1 - y)</summary>
internal struct SigmoidFormula : IUnaryFormula
{
    public static string Name => "Sigmoid";
    public static bool ReadsInput => false;
    public static bool ReadsOutput => true;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => Activations.Sigmoid<T>(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g * y * (V.Constant(1) - y);

    // Only where Forward itself runs our single-precision kernel (float on AVX-512 or AVX2); elsewhere it is TensorPrimitives',
    // whose vector code is not ours to call one vector at a time.
    public static bool HasVectorForward<T>() where T : unmanaged, IFloatingPointIeee754<T> => Activations.HasOwnKernel<T>();
    public static Vector512<T> VectorForward<T>(Vector512<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        Activations.SigmoidVector(x.As<T, float>()).As<float, T>();
    public static Vector256<T> VectorForward<T>(Vector256<T> x, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        Activations.SigmoidVector(x.As<T, float>()).As<float, T>();
}
