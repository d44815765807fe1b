using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise square root (NaN for negative inputs).</summary>
    public Tensor<T> Sqrt()
    {
        var y = Uninitialized(Dims);
        TP.Sqrt(Data, y.Data);
        Tape.Record(SqrtRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class SqrtRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SqrtRule<T> Instance = new();
    public override string Name => "Sqrt";

    // dx += dy / (2 * y)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        Kernels.Accumulate<T, Grad>(dy, y.AsSpan(), e.InA<T>().GradSink());
    }

    private struct Grad : IFused2<T>
    {
        public static T Invoke(T dy, T y) => dy / (y + y);
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> y) => dy / (y + y);
    }
}
