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

/// <summary>y = a + b: dy/da = dy/db = 1.</summary>
internal struct AddFormula : IBinaryFormula
{
    public static string Name => "Add";
    public static bool ReadsOperands => false;
    public static bool ReadsOutput => false;
    public static V Apply<V>(V a, V b) where V : struct, IValue<V> => a + b;
    public static V ChainA<V>(V g, V a, V b, V y) where V : struct, IValue<V> => g;
    public static V ChainB<V>(V g, V a, V b, V y) where V : struct, IValue<V> => g;
}

/// <summary>The fast backward kernels over broadcast shapes; forward mode, the recorded backward and the fused kernels come from <see cref="AddFormula"/>.</summary>
internal sealed class AddRule<T> : BinaryRule<T, AddFormula> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly AddRule<T> Instance = new();

    protected override Tensor<T> Apply(Tensor<T> a, Tensor<T> b) => a.Add(b);

    // da += dy, db += dy, each summed over the dimensions it was broadcast along.
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var (a, b) = (e.InA<T>(), e.InB<T>());
        // A same-shape operand receives dy itself; the last one to read it may take over its buffer.
        if (a.RequiresGrad)
        {
            if (a.Size == y.Size) a.GradSink(passThrough: !b.RequiresGrad || b.Size != y.Size ? y : null).Add(dy);
            else Kernels.ReduceToShape(dy, y.Dims, a.GradSink().Zeroed(), a.Dims);
        }
        if (b.RequiresGrad)
        {
            if (b.Size == y.Size) b.GradSink(passThrough: y).Add(dy);
            else Kernels.ReduceToShape(dy, y.Dims, b.GradSink().Zeroed(), b.Dims);
        }
    }
}
