using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise e^x.</summary>
    public Tensor<T> Exp()
    {
        var y = Uninitialized(Dims);
        TP.Exp(Data, y.Data);
        Tape.Record(ExpRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class ExpRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ExpRule<T> Instance = new();
    public override string Name => "Exp";

    // dx += dy * y
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        Kernels.MultiplyInto(dy, y.AsSpan(), e.InA<T>().GradSink());
    }
}
