using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise natural logarithm (NaN for negative inputs, -Inf at 0).</summary>
    public Tensor<T> Log() => Unary.Apply<T, LogFormula>(this);
}

/// <summary>d/dx log x = 1 / x</summary>
internal struct LogFormula : IUnaryFormula
{
    public static string Name => "Log";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Log(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g / x;
}
