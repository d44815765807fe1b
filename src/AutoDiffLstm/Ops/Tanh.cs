using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise hyperbolic tangent.</summary>
    public Tensor<T> Tanh()
    {
        var y = Uninitialized(Dims);
        Activations.Tanh<T>(Data, y.Data);
        Tape.Record(TanhRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class TanhRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly TanhRule<T> Instance = new();
    public override string Name => "Tanh";

    // dx += dy * (1 - y*y)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        Kernels.Accumulate<T, Grad>(dy, y.AsSpan(), e.InA<T>().GradSink());
    }

    private struct Grad : IFused2<T>
    {
        public static T Invoke(T dy, T y) => dy * (T.One - y * y);
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> y) => dy * (Vector<T>.One - y * y);
    }
}
