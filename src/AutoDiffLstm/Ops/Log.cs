using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise natural logarithm (NaN for negative inputs, -Inf at 0).</summary>
    public Tensor<T> Log()
    {
        var y = Uninitialized(Dims);
        TP.Log(Data, y.Data);
        Tape.Record(LogRule<T>.Instance, y, this);
        return y;
    }
}

internal sealed class LogRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly LogRule<T> Instance = new();
    public override string Name => "Log";

    // dx += dy / x
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        Kernels.Accumulate<T, Quotient>(dy, x.AsSpan(), x.GradSink());
    }

    private struct Quotient : IFused2<T>
    {
        public static T Invoke(T dy, T x) => dy / x;
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> x) => dy / x;
    }
}
