using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise min(max(x, min), max).</summary>
    public Tensor<T> Clamp(double min, double max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min ({min}) must be <= max ({max}).");
        return Unary.Apply<T, ClampFormula>(this, min, max);
    }
}

/// <summary>
/// d/dx clamp(x, lo, hi) = 1 where lo &lt;= x &lt;= hi, else 0: the gradient passes where the clamp is the identity,
/// bounds included, as in PyTorch (the bounds are the primitive's constants p = lo, q = hi)
/// </summary>
internal struct ClampFormula : IUnaryFormula
{
    public static string Name => "Clamp";
    public static bool ReadsInput => true;
    public static bool ReadsOutput => false;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, double p, double q) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TP.Max(x, T.CreateChecked(p), y);
        TP.Min(y, T.CreateChecked(q), y);
    }

    public static V Chain<V>(V g, V x, V y, double p, double q) where V : struct, IValue<V> => V.WhereWithin(x, p, q, g);
}
