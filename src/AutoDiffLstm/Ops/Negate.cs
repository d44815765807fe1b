using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise -x.</summary>
    public static Tensor<T> operator -(Tensor<T> x) => x.Negate();

    /// <summary>Elementwise -x.</summary>
    public Tensor<T> Negate()
    {
        var y = Uninitialized(Dims);
        TP.Negate(Data, y.Data);
        Tape.Record(NegateRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class NegateRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly NegateRule<T> Instance = new();
    public override string Name => "Negate";

    // dx -= dy
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var g = e.InA<T>().GradBuffer();
        TP.Subtract(g, dy, g);
    }
}
