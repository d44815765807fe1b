using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise x^p for a constant exponent p (NaN for negative x and non-integer p, as Math.Pow).</summary>
    public Tensor<T> Pow(double p) => Unary.Apply<T, PowFormula>(this, p);
}

/// <summary>d/dx x^p = p x^(p-1) (the exponent is the primitive's constant p)</summary>
internal struct PowFormula : IUnaryFormula
{
    public static string Name => "Pow";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> =>
        TP.Pow(x, T.CreateChecked(p), y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g * (V.Pow(x, p - 1) * V.Constant(p));
}
