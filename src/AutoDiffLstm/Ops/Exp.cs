using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise e^x.</summary>
    public Tensor<T> Exp() => Unary.Apply<T, ExpFormula>(this);
}

/// <summary>d/dx e^x = e^x = y</summary>
internal struct ExpFormula : IUnaryFormula
{
    public static string Name => "Exp";
    public static bool ReadsInput => false;
    public static bool ReadsOutput => true;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Exp(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g * y;
}
