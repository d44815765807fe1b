using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise max(x, 0).</summary>
    public Tensor<T> Relu()
    {
        var y = Uninitialized(Dims);
        TP.Max(Data, T.Zero, y.Data);
        Tape.Record(ReluRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class ReluRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ReluRule<T> Instance = new();
    public override string Name => "Relu";

    // dx += dy where x > 0
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        Kernels.Accumulate<T, Grad>(dy, x.AsSpan(), x.GradSink());
    }

    private struct Grad : IFused2<T>
    {
        public static T Invoke(T dy, T x) => x > T.Zero ? dy : T.Zero;
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), dy, Vector<T>.Zero);
    }
}
