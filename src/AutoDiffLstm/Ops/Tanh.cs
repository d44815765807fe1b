using System.Numerics;
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
}
