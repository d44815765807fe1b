using System.Numerics;

namespace AutoDiffLstm.Tests.Tensors;

/// <summary>Tensor creation, written once and run for float and double.</summary>
public abstract class TensorFactoryTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T V(double v) => T.CreateChecked(v);
    private static double D(T v) => double.CreateChecked(v);

    [Fact]
    public void ZerosOnesAndFullFillEveryElement()
    {
        var z = Tensor.Zeros<T>(2, 3);
        Assert.Equal([2, 3], z.Shape);
        Assert.All(z.ToArray(), v => Assert.Equal(T.Zero, v));
        Assert.All(Tensor.Ones<T>(4).ToArray(), v => Assert.Equal(T.One, v));
        var f = Tensor.Full(V(2.5), 3, 1, 2);
        Assert.Equal(6, f.Size);
        Assert.All(f.ToArray(), v => Assert.Equal(V(2.5), v));
        Assert.False(f.RequiresGrad);
        Assert.True(f.IsLeaf);
    }

    [Fact]
    public void FactoriesCopyTheShapeArgument()
    {
        int[] shape = [2, 3];
        var z = Tensor.Zeros<T>(shape);
        shape[0] = 7;
        Assert.Equal([2, 3], z.Shape);
    }

    [Fact]
    public void ZeroSizedAndRankZeroShapes()
    {
        Assert.Equal(0, Tensor.Zeros<T>(3, 0).Size);
        var r0 = Tensor.Zeros<T>();
        Assert.Equal(0, r0.Rank);
        Assert.Equal(1, r0.Size);
        var s = Tensor.Scalar(V(-1.5));
        Assert.Equal(0, s.Rank);
        Assert.Equal(V(-1.5), s.Item());
    }

    [Fact]
    public void FromArrayCopiesValuesInRowMajorOrder()
    {
        T[] values = [V(1), V(2), V(3), V(4), V(5), V(6)];
        var vector = Tensor.FromArray(values);
        Assert.Equal([6], vector.Shape);
        var matrix = Tensor.FromArray(values, 2, 3);
        Assert.Equal(V(6), matrix[1, 2]);
        Assert.Equal(V(4), matrix[1, 0]);
        values[0] = V(100);
        Assert.Equal(V(1), vector[0]);
        Assert.Equal(V(1), matrix[0, 0]);
    }

    [Fact]
    public void FromTwoDimensionalArrayKeepsRowsAndColumns()
    {
        var m = Tensor.FromArray(new T[,] { { V(1), V(2), V(3) }, { V(4), V(5), V(6) } });
        Assert.Equal([2, 3], m.Shape);
        Assert.Equal([V(1), V(2), V(3), V(4), V(5), V(6)], m.ToArray());
        Assert.Equal(V(5), m[1, 1]);
    }

    [Fact]
    public void ArangeCountsUpWithAnExclusiveStop()
    {
        Assert.Equal([0.0, 1, 2, 3, 4], Tensor.Arange<T>(5).ToArray().Select(D));
        Assert.Equal([1.0, 1.5, 2.0, 2.5], Tensor.Arange(V(1), V(3), V(0.5)).ToArray().Select(D));
        Assert.Equal([3.0, 2, 1], Tensor.Arange(V(3), V(0), V(-1)).ToArray().Select(D));
        Assert.Equal(0, Tensor.Arange(V(3), V(0), V(1)).Size);
        Assert.Equal(0, Tensor.Arange<T>(0).Size);
        var error = Assert.Throws<ArgumentException>(() => Tensor.Arange(V(0), V(1), V(0)));
        Assert.Contains("Arange", error.Message);
    }

    [Fact]
    public void RandomNormalHasTheRequestedMeanAndSpread()
    {
        // n = 40000 samples: the sample mean's standard error is std/200, so 5 standard errors is 0.05 for std 2;
        // the sample standard deviation's standard error is about std/sqrt(2n) = 0.007, tolerance 0.05.
        var t = Tensor.RandomNormal<T>(new Rng(11), [200, 200], mean: 3, std: 2);
        var v = t.ToArray().Select(D).ToArray();
        double mean = v.Average();
        double std = Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Sum() / (v.Length - 1));
        Assert.InRange(mean, 3 - 0.05, 3 + 0.05);
        Assert.InRange(std, 2 - 0.05, 2 + 0.05);
        // Tails: about 4.55% of normal samples fall more than 2 std from the mean (tolerance +-0.5%).
        double outside = v.Count(x => Math.Abs(x - 3) > 4) / (double)v.Length;
        Assert.InRange(outside, 0.0405, 0.0505);
    }

    [Fact]
    public void RandomUniformCoversItsIntervalEvenly()
    {
        var t = Tensor.RandomUniform<T>(new Rng(12), [40000], low: -2, high: 6);
        var v = t.ToArray().Select(D).ToArray();
        Assert.All(v, x => Assert.InRange(x, -2, 6 - 1e-12));
        // Mean 2, standard error 8/sqrt(12)/200 = 0.0115: tolerance 0.06. Each of 8 unit bins holds 1/8 +- 0.01.
        Assert.InRange(v.Average(), 2 - 0.06, 2 + 0.06);
        for (int bin = -2; bin < 6; bin++)
            Assert.InRange(v.Count(x => x >= bin && x < bin + 1) / (double)v.Length, 0.115, 0.135);
    }

    [Fact]
    public void RandomUniformStaysBelowHighEvenWhenTheIntervalSpansAFewRepresentableValues()
    {
        // [1, 1 + 8 ulp): about half an ulp's worth of draws would round up onto 'high' without care.
        T one = T.One, high = one;
        for (int i = 0; i < 8; i++) high = T.BitIncrement(high);
        var t = Tensor.RandomUniform<T>(new Rng(13), [4000], D(one), D(high));
        Assert.All(t.ToArray(), x => Assert.True(x >= one && x < high, $"{x} is outside [{one}, {high})"));
    }

    [Fact]
    public void RandomUniformRejectsAReversedInterval()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.RandomUniform<T>(new Rng(1), [2], 1, 0));
        Assert.Contains("RandomUniform", error.Message);
    }

    [Fact]
    public void SameSeedGivesIdenticalTensorsAndDifferentSeedsDiffer()
    {
        Assert.Equal(Tensor.RandomNormal<T>(new Rng(5), [7, 9]).ToArray(), Tensor.RandomNormal<T>(new Rng(5), [7, 9]).ToArray());
        Assert.Equal(Tensor.RandomUniform<T>(new Rng(5), [63]).ToArray(), Tensor.RandomUniform<T>(new Rng(5), [63]).ToArray());
        Assert.NotEqual(Tensor.RandomNormal<T>(new Rng(5), [7, 9]).ToArray(), Tensor.RandomNormal<T>(new Rng(6), [7, 9]).ToArray());
        Assert.NotEqual(Tensor.RandomUniform<T>(new Rng(5), [63]).ToArray(), Tensor.RandomUniform<T>(new Rng(6), [63]).ToArray());
    }
}

public sealed class TensorFactoryTestsFloat : TensorFactoryTests<float>;

public sealed class TensorFactoryTestsDouble : TensorFactoryTests<double>;
