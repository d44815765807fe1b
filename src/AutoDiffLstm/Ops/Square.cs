using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise x^2.</summary>
    public Tensor<T> Square()
    {
        var y = Uninitialized(Dims);
        TP.Multiply(Data, Data, y.Data);
        Tape.Record(SquareRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class SquareRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SquareRule<T> Instance = new();
    public override string Name => "Square";

    // dx += 2 * x * dy
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        Kernels.Accumulate<T, Grad>(dy, x.AsSpan(), x.GradSink());
    }

    private struct Grad : IFused2<T>
    {
        public static T Invoke(T dy, T x) => (x + x) * dy;
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> x) => (x + x) * dy;
    }
}
