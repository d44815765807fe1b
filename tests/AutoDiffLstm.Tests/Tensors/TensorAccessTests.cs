using System.Numerics;

namespace AutoDiffLstm.Tests.Tensors;

/// <summary>Indexer, Item, Clone and Detach, for float and double.</summary>
public abstract class TensorAccessTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T V(double v) => T.CreateChecked(v);

    private static Tensor<T> Counting(params int[] shape) =>
        Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => V(i)).ToArray(), shape);

    [Fact]
    public void IndexerReadsAndWritesRowMajor()
    {
        var t = Counting(2, 3, 4);
        Assert.Equal(V(1 * 12 + 2 * 4 + 3), t[1, 2, 3]);
        t[0, 1, 2] = V(-7);
        Assert.Equal(V(-7), t.ToArray()[0 * 12 + 1 * 4 + 2]);
        var s = Tensor.Scalar(V(4));
        Assert.Equal(V(4), s[Array.Empty<int>()]);
    }

    [Fact]
    public void IndexerRejectsAWrongIndexCountOrAnOutOfRangeIndex()
    {
        var t = Counting(2, 3);
        var count = Assert.Throws<ArgumentException>(() => t[1]);
        Assert.Contains("[2, 3]", count.Message);
        var range = Assert.Throws<IndexOutOfRangeException>(() => t[1, 3]);
        Assert.Contains("index 3", range.Message);
        Assert.Contains("[2, 3]", range.Message);
        Assert.Throws<IndexOutOfRangeException>(() => t[-1, 0] = T.One);
    }

    [Fact]
    public void ItemReturnsTheOnlyElementAndOtherwiseNamesTheShape()
    {
        Assert.Equal(V(3), Tensor.FromArray([V(3)], 1, 1).Item());
        Assert.Equal(3.0, Tensor.Scalar(V(3)).ItemAsDouble());
        var many = Assert.Throws<InvalidOperationException>(() => Counting(2, 3).Item());
        Assert.Contains("Item", many.Message);
        Assert.Contains("[2, 3]", many.Message);
        var none = Assert.Throws<InvalidOperationException>(() => Tensor.Zeros<T>(0).Item());
        Assert.Contains("[0]", none.Message);
    }

    [Fact]
    public void CloneIsAnIndependentLeafCopy()
    {
        var x = Counting(2, 2).RequireGrad();
        var y = x * V(2);
        var c = y.Clone();
        Assert.True(c.IsLeaf);
        Assert.False(c.RequiresGrad);
        Assert.Equal(y.ToArray(), c.ToArray());
        Assert.Equal(y.Shape, c.Shape);
        c[0, 0] = V(99);
        Assert.Equal(T.Zero, y[0, 0]);
        Tape.Current.Reset();
    }

    [Fact]
    public void DetachSharesValuesButNotGradients()
    {
        var x = Counting(3).RequireGrad();
        (x * x).Sum().Backward();
        var d = x.Detach();
        Assert.Null(d.Grad);
        Assert.False(d.RequiresGrad);
        d[1] = V(42);
        Assert.Equal(V(42), x[1]);
        Assert.NotNull(x.Grad);
    }

    [Fact]
    public void ToArrayIsACopy()
    {
        var t = Counting(3);
        var a = t.ToArray();
        a[0] = V(5);
        Assert.Equal(T.Zero, t[0]);
    }
}

public sealed class TensorAccessTestsFloat : TensorAccessTests<float>;

public sealed class TensorAccessTestsDouble : TensorAccessTests<double>;
