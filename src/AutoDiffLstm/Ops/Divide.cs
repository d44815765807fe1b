using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise a / b with NumPy broadcasting.</summary>
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b) => a.Divide(b);
    /// <summary>Divides every element by a constant.</summary>
    public static Tensor<T> operator /(Tensor<T> a, T b) => a.Divide(Tensor.Scalar(b));
    /// <summary>A constant divided by every element.</summary>
    public static Tensor<T> operator /(T a, Tensor<T> b) => Tensor.Scalar(a).Divide(b);

    /// <summary>Elementwise this / other with NumPy broadcasting.</summary>
    public Tensor<T> Divide(Tensor<T> other)
    {
        var y = Elementwise.Binary<T, DivideSpans<T>>("Divide", this, other);
        Tape.Record(DivideRule<T>.Instance, y, this, other);
        return y;
    }
}

internal sealed class DivideRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly DivideRule<T> Instance = new();
    public override string Name => "Divide";

    // y = a / b:  da += dy / b,  db -= dy * y / b  (reduced over broadcast dimensions).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) Elementwise.AccumulateBroadcast<T, DivideSpans<T>>(y.GradData!, y.Dims, b, a);
        if (!b.RequiresGrad) return;
        var minusDyY = BufferPool<T>.Rent(dy.Length);
        Kernels.Map<T, NegProduct>(dy, y.AsSpan(), minusDyY);
        Elementwise.AccumulateBroadcast<T, DivideSpans<T>>(minusDyY, y.Dims, b, b);
        BufferPool<T>.Return(minusDyY);
    }

    private struct NegProduct : IFused2<T>
    {
        public static T Invoke(T dy, T y) => -(dy * y);
        public static Vector<T> Invoke(Vector<T> dy, Vector<T> y) => -(dy * y);
    }

    // dy = da / b - db * y / b
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var b = e.InB<T>();
        var (ta, tb) = (t.Of<T>(e.A), t.Of<T>(b));
        var fromA = ta is null ? null : ta / b;
        var fromB = tb is null ? null : tb * y / b;
        var sum = fromB is null ? fromA! : fromA is null ? -fromB : fromA - fromB;
        return sum.ExpandTo(y.Dims);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) sink.Add(Name, a, (dy / b).SumTo(a.Dims));
        if (b.RequiresGrad) sink.Add(Name, b, (-(dy * y) / b).SumTo(b.Dims));
    }
}
