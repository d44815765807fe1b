using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise logistic function 1 / (1 + e^-x); saturates to exactly 0 or 1 without overflow for large |x|.</summary>
    public Tensor<T> Sigmoid()
    {
        var y = Uninitialized(Dims);
        Activations.Sigmoid<T>(Data, y.Data);
        Tape.Record(SigmoidRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class SigmoidRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SigmoidRule<T> Instance = new();
    public override string Name => "Sigmoid";

    // dx += dy * y * (1 - y)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        Kernels.Accumulate<T, Grad>(dy, y.AsSpan(), e.InA<T>().GradSink());
    }

    private struct Grad : IFused2<T>
    {
        public static T Invoke(T dy, T y) => dy * y * (T.One - y);
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> y) => dy * y * (Vector<T>.One - y);
    }
}
