using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise square root (NaN for negative inputs).</summary>
    public Tensor<T> Sqrt() => Unary.Apply<T, SqrtFormula>(this);
}

/// <summary>d/dx sqrt x = 1 / (2 sqrt x) = 1 / (2 y)</summary>
internal struct SqrtFormula : IUnaryFormula
{
    public static string Name => "Sqrt";
    public static bool ReadsInput => false;
    public static bool ReadsOutput => true;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Sqrt(x, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => g / (y + y);
}
