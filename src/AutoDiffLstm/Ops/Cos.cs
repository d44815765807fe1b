using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise cosine (radians).</summary>
    public Tensor<T> Cos() => Unary.Apply<T, CosFormula>(this);
}

/// <summary>d/dx cos x = -sin x</summary>
internal struct CosFormula : IUnaryFormula
{
    public static string Name => "Cos";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Cos(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => -(g * V.Sin(x));
}
