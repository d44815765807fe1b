using System.Numerics;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise a + b with NumPy broadcasting.</summary>
    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b) => a.Add(b);
    /// <summary>Adds a constant to every element.</summary>
    public static Tensor<T> operator +(Tensor<T> a, T b) => a.Add(Tensor.Scalar(b));
    /// <summary>Adds a constant to every element.</summary>
    public static Tensor<T> operator +(T a, Tensor<T> b) => b.Add(Tensor.Scalar(a));

    /// <summary>Elementwise this + other with NumPy broadcasting.</summary>
    public Tensor<T> Add(Tensor<T> other)
    {
        var y = Elementwise.Binary<T, AddSpans<T>>("Add", this, other);
        Tape.Record(AddRule<T>.Instance, y, this, other);
        return y;
    }
}

internal sealed class AddRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly AddRule<T> Instance = new();
    public override string Name => "Add";

    // da += dy, db += dy, each summed over the dimensions it was broadcast along.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        // A same-shape operand receives dy itself; the last one to read it may take over its buffer.
        if (a.RequiresGrad)
        {
            if (a.Size == y.Size) a.AccumulateGradPassedThrough(y, mayTake: !b.RequiresGrad || b.Size != y.Size);
            else Kernels.ReduceToShape(dy, y.Dims, a.GradBuffer(), a.Dims);
        }
        if (b.RequiresGrad)
        {
            if (b.Size == y.Size) b.AccumulateGradPassedThrough(y, mayTake: true);
            else Kernels.ReduceToShape(dy, y.Dims, b.GradBuffer(), b.Dims);
        }
    }

    // dy = da + db (each broadcast to y)
    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents t)
    {
        var (ta, tb) = (t.Of<T>(e.A), t.Of<T>(e.B));
        var sum = ta is null ? tb! : tb is null ? ta : ta + tb;
        return sum.ExpandTo(y.Dims);
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        sink.Add(Name, a, dy.SumTo(a.Dims));
        sink.Add(Name, b, dy.SumTo(b.Dims));
    }
}
