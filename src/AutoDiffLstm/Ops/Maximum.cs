using System.Numerics;

namespace AutoDiffLstm;

public static partial class Tensor
{
    /// <summary>
    /// Elementwise max(a, b) with NumPy broadcasting. The gradient goes to the larger operand (to <paramref name="a"/> at
    /// a tie), as for a kink: the stabiliser of xLSTM's exponential gates is such a maximum.
    /// </summary>
    public static Tensor<T> Maximum<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        BinaryRule<T, MaximumFormula>.Record(MaximumRule<T>.Instance, a, b);
}

/// <summary>y = max(a, b): dy/da = [a &gt;= b], dy/db = [a &lt; b].</summary>
internal struct MaximumFormula : IBinaryFormula
{
    public static string Name => "Maximum";
    public static bool ReadsOperands => true;
    public static bool ReadsOutput => false;
    public static V Apply<V>(V a, V b) where V : struct, IValue<V> => V.WhereAtLeast(a, b, a, b);
    public static V ChainA<V>(V g, V a, V b, V y) where V : struct, IValue<V> => V.WhereAtLeast(a, b, g, V.Constant(0));
    public static V ChainB<V>(V g, V a, V b, V y) where V : struct, IValue<V> => V.WhereAtLeast(a, b, V.Constant(0), g);
}

/// <summary>Everything from <see cref="MaximumFormula"/>.</summary>
internal sealed class MaximumRule<T> : BinaryRule<T, MaximumFormula> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly MaximumRule<T> Instance = new();

    protected override Tensor<T> Apply(Tensor<T> a, Tensor<T> b) => Tensor.Maximum(a, b);
}
