using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise x^p for a constant exponent p (NaN for negative x and non-integer p, as Math.Pow).</summary>
    public Tensor<T> Pow(double p)
    {
        var y = Uninitialized(Dims);
        TP.Pow(Data, T.CreateChecked(p), y.Data);
        Tape.Record(PowRule<T>.Instance, y, this, d0: p);
        return y;
    }
}

internal sealed class PowRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly PowRule<T> Instance = new();
    public override string Name => "Pow";

    // dx += dy * p * x^(p-1)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        T p = T.CreateChecked(e.D0);
        var slope = BufferPool<T>.Rent(x.Size);
        TP.Pow(x.AsSpan(), p - T.One, slope);
        TP.Multiply(slope, p, slope);
        Kernels.MultiplyInto<T>(dy, slope, x.GradSink());
        BufferPool<T>.Return(slope);
    }
}
