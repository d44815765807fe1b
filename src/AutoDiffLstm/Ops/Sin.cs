using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise sine (radians).</summary>
    public Tensor<T> Sin() => Unary.Apply<T, SinFormula>(this);
}

/// <summary>d/dx sin x = cos x</summary>
internal struct SinFormula : IUnaryFormula
{
    public static string Name => "Sin";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Sin(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g * V.Cos(x);
}
