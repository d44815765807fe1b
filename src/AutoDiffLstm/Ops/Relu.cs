using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise max(x, 0).</summary>
    public Tensor<T> Relu() => Unary.Apply<T, ReluFormula>(this);
}

/// <summary>d/dx max(x, 0) = 1 where x > 0, else 0 (0 at the kink, as PyTorch)</summary>
internal struct ReluFormula : IUnaryFormula
{
    public static string Name => "Relu";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T> => TP.Max(x, T.Zero, y);

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => V.WherePositive(x, g);
}
