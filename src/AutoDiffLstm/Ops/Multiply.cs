using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise a * b with NumPy broadcasting.</summary>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b) => a.Multiply(b);
    /// <summary>Scales every element.</summary>
    public static Tensor<T> operator *(Tensor<T> a, T b) => a.Multiply(Tensor.Scalar(b));
    /// <summary>Scales every element.</summary>
    public static Tensor<T> operator *(T a, Tensor<T> b) => b.Multiply(Tensor.Scalar(a));

    /// <summary>Elementwise this * other with NumPy broadcasting.</summary>
    public Tensor<T> Multiply(Tensor<T> other)
    {
        var y = Elementwise.Binary<T, MultiplySpans<T>>("Multiply", this, other);
        Tape.Record(MultiplyRule<T>.Instance, y, this, other);
        return y;
    }
}

internal sealed class MultiplyRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly MultiplyRule<T> Instance = new();
    public override string Name => "Multiply";

    // da += dy * b, db += dy * a (reduced over broadcast dimensions).
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) Accumulate(y, b, a);
        if (b.RequiresGrad) Accumulate(y, a, b);
    }

    private static void Accumulate(Tensor<T> y, Tensor<T> other, Tensor<T> target)
    {
        if (other.Size == y.Size && target.Size == y.Size) Kernels.MultiplyInto(y.GradData!, other.AsSpan(), target.GradSink());
        else Elementwise.AccumulateBroadcast<T, MultiplySpans<T>>(y.GradData!, y.Dims, other, target);
    }

    // dy = da * b + a * db
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        var (ta, tb) = (t.Of<T>(a), t.Of<T>(b));
        var sum = ta is null ? a * tb! : tb is null ? ta * b : ta * b + a * tb;
        return sum.ExpandTo(y.Dims);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        if (a.RequiresGrad) sink.Add(Name, a, (dy * b).SumTo(a.Dims));
        if (b.RequiresGrad) sink.Add(Name, b, (dy * a).SumTo(b.Dims));
    }
}
