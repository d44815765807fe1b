using System.Numerics;

namespace AutoDiffLstm.Tests.Tensors;

/// <summary>ToString: a header line with element type, shape and gradient status, then nested values, long dimensions cut with "...".</summary>
public abstract class TensorFormatterTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly string TypeName = typeof(T) == typeof(float) ? "float" : "double";

    private static Tensor<T> Counting(params int[] shape) =>
        Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => T.CreateChecked(i)).ToArray(), shape);

    private static string[] Lines(Tensor<T> t) => t.ToString().Split('\n');

    [Fact]
    public void RankZeroShowsHeaderAndValue()
    {
        Assert.Equal($"Tensor<{TypeName}> []\n1.5", Tensor.Scalar(T.CreateChecked(1.5)).ToString());
    }

    [Fact]
    public void VectorShowsAllShortValuesOnOneLine()
    {
        Assert.Equal($"Tensor<{TypeName}> [3]\n[0, 1, 2]", Counting(3).ToString());
        Assert.Equal($"Tensor<{TypeName}> [0]\n[]", Tensor.Zeros<T>(0).ToString());
    }

    [Fact]
    public void MatrixShowsOneRowPerLine()
    {
        Assert.Equal($"Tensor<{TypeName}> [2, 3]\n[[0, 1, 2],\n [3, 4, 5]]", Counting(2, 3).ToString());
    }

    [Fact]
    public void RankThreeAndFourNestBracketsAndIndentRows()
    {
        Assert.Equal($"Tensor<{TypeName}> [2, 2, 2]\n[[[0, 1],\n  [2, 3]],\n [[4, 5],\n  [6, 7]]]", Counting(2, 2, 2).ToString());
        Assert.Equal($"Tensor<{TypeName}> [2, 1, 2, 2]\n[[[[0, 1],\n   [2, 3]]],\n [[[4, 5],\n   [6, 7]]]]", Counting(2, 1, 2, 2).ToString());
    }

    [Fact]
    public void LongLastDimensionShowsThreeValuesAtEachEnd()
    {
        var text = Counting(20).ToString();
        Assert.Equal($"Tensor<{TypeName}> [20]\n[0, 1, 2, ..., 17, 18, 19]", text);
    }

    [Fact]
    public void DimensionsUpToEightAreShownWhole()
    {
        Assert.DoesNotContain("...", Counting(8).ToString());
        Assert.Contains("...", Counting(9).ToString());
    }

    [Fact]
    public void LongOuterDimensionShowsThreeRowsAtEachEnd()
    {
        var lines = Lines(Counting(20, 2));
        Assert.Equal($"Tensor<{TypeName}> [20, 2]", lines[0]);
        Assert.Equal(["[[0, 1],", " [2, 3],", " [4, 5],", " ...,", " [34, 35],", " [36, 37],", " [38, 39]]"], lines[1..]);
    }

    [Fact]
    public void HeaderShowsGradientStatus()
    {
        var x = Counting(2).RequireGrad();
        Assert.StartsWith($"Tensor<{TypeName}> [2] requires_grad\n", x.ToString());
        Assert.StartsWith($"Tensor<{TypeName}> [2] grad_fn\n", (x * T.One).ToString());
        Tape.Current.Reset();
    }

    [Fact]
    public void NonFiniteValuesArePrinted()
    {
        var t = Tensor.FromArray([T.NaN, T.PositiveInfinity, T.NegativeInfinity]);
        Assert.EndsWith("\n[NaN, Infinity, -Infinity]", t.ToString());
    }
}

public sealed class TensorFormatterTestsFloat : TensorFormatterTests<float>;

public sealed class TensorFormatterTestsDouble : TensorFormatterTests<double>;
