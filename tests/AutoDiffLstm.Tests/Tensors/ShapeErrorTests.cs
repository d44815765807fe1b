namespace AutoDiffLstm.Tests.Tensors;

/// <summary>
/// Every entry point that checks shapes rejects a misfit with an ArgumentException (or ArgumentOutOfRangeException)
/// whose message names the operation and the shapes involved, formatted as the engine prints them ("[2, 3]").
/// </summary>
public class ShapeErrorTests
{
    private static Tensor<double> T(params int[] shape) => Tensor.Zeros<double>(shape);

    private static void AssertNames<TException>(Action act, params string[] fragments) where TException : ArgumentException
    {
        var error = Assert.Throws<TException>(act);
        foreach (var f in fragments) Assert.Contains(f, error.Message);
    }

    private static void AssertNames(Action act, params string[] fragments) => AssertNames<ArgumentException>(act, fragments);

    public static TheoryData<string> BinaryOps => new() { "Add", "Subtract", "Multiply", "Divide" };

    private static Tensor<double> Apply(string op, Tensor<double> a, Tensor<double> b) => op switch
    {
        "Add" => a + b,
        "Subtract" => a - b,
        "Multiply" => a * b,
        "Divide" => a / b,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void ElementwiseBroadcastMismatchNamesTheOperationAndBothShapes(string op)
    {
        AssertNames(() => Apply(op, T(2, 3), T(4, 3)), op, "[2, 3]", "[4, 3]");
        AssertNames(() => Apply(op, T(5, 2, 3), T(2, 4)), op, "[5, 2, 3]", "[2, 4]");
    }

    [Fact]
    public void MatMulInnerDimensionMismatchNamesBothShapes()
    {
        AssertNames(() => T(2, 3).MatMul(T(4, 5)), "MatMul", "[2, 3]", "[4, 5]");
        AssertNames(() => T(2, 3).MatMul(T(2, 5), transposeThis: false, transposeOther: true), "MatMul", "[2, 3]", "[2, 5]");
    }

    [Fact]
    public void MatMulBatchMismatchAndUnsupportedRanksNameBothShapes()
    {
        AssertNames(() => T(2, 3, 4).MatMul(T(5, 4, 6)), "MatMul", "[2, 3, 4]", "[5, 4, 6]");
        AssertNames(() => T(3).MatMul(T(3, 2)), "MatMul", "[3]", "[3, 2]");
        AssertNames(() => T(2, 2, 3, 4).MatMul(T(2, 4, 6)), "MatMul", "[2, 2, 3, 4]", "[2, 4, 6]");
    }

    [Fact]
    public void LinearMisfitNamesInputWeightAndBias()
    {
        AssertNames(() => T(2, 3).Linear(T(4, 5)), "Linear", "[2, 3]", "[4, 5]");
        AssertNames(() => T(2, 3).Linear(T(4, 3), T(3)), "Linear", "[2, 3]", "[4, 3]", "bias [3]");
        AssertNames(() => T(2, 3).Linear(T(4, 3, 1)), "Linear", "[2, 3]", "[4, 3, 1]");
    }

    [Fact]
    public void ReshapeToADifferentSizeNamesBothShapes()
    {
        AssertNames(() => T(2, 3).Reshape(4), "Reshape", "[2, 3]", "[4]");
        AssertNames(() => T(2, 3).Reshape(-1, 4), "Reshape", "[2, 3]", "[-1, 4]");
        AssertNames(() => T(2, 3).Reshape(-1, 0), "Reshape", "[2, 3]", "[-1, 0]");
        AssertNames(() => T(2, 3).Reshape(-2, -3), "Reshape", "[-2, -3]");
    }

    [Fact]
    public void SqueezeOfANonUnitDimensionNamesTheShape()
    {
        AssertNames(() => T(2, 3).Squeeze(1), "Squeeze", "[2, 3]");
    }

    [Fact]
    public void NarrowOutsideTheDimensionNamesTheRangeAndTheShape()
    {
        AssertNames<ArgumentOutOfRangeException>(() => T(2, 3).Narrow(1, 2, 2), "Narrow", "[2, 4)", "[2, 3]");
        AssertNames<ArgumentOutOfRangeException>(() => T(2, 3).Narrow(0, -1, 1), "Narrow", "[2, 3]");
        AssertNames<ArgumentOutOfRangeException>(() => T(2, 3).Narrow(2, 0, 1), "Narrow", "axis 2", "rank 2");
        AssertNames<ArgumentOutOfRangeException>(() => T(2, 3).Select(0, 2), "Select", "index 2", "[2, 3]");
    }

    [Fact]
    public void ConcatAndStackMisfitsNameEveryShape()
    {
        AssertNames(() => Tensor.Concat(0, T(2, 3), T(2, 4)), "Concat", "[2, 3]", "[2, 4]");
        AssertNames(() => Tensor.Concat(1, T(2, 3), T(2, 3, 1)), "Concat", "[2, 3]", "[2, 3, 1]");
        AssertNames(() => Tensor.Concat<double>(0), "Concat");
        AssertNames(() => Tensor.Stack(0, T(2, 3), T(3, 2)), "Stack", "[2, 3]", "[3, 2]");
    }

    [Fact]
    public void ChunkAndSplitMisfitsNameTheShapeAndTheRequest()
    {
        AssertNames(() => T(2, 5).Chunk(3), "Chunk", "[2, 5]", "3");
        AssertNames(() => T(2, 5).Chunk(0), "Chunk", "[2, 5]");
        AssertNames(() => T(2, 5).Split(1, 2, 2), "Split", "[2, 2]", "[2, 5]");
        AssertNames(() => T(2, 5).Split(1, 6, -1), "Split", "[6, -1]", "[2, 5]");
    }

    [Fact]
    public void CrossEntropyTargetsCountAndRangeAreChecked()
    {
        AssertNames(() => T(3, 4).CrossEntropy([0, 1]), "CrossEntropy", "[3, 4]", "2 targets", "3 rows");
        AssertNames<ArgumentOutOfRangeException>(() => T(3, 4).CrossEntropy([0, 4, 1]), "CrossEntropy", "target 4", "[0, 4)", "[3, 4]");
        AssertNames<ArgumentOutOfRangeException>(() => T(3, 4).CrossEntropy([0, 1, -1]), "CrossEntropy", "target -1", "[3, 4]");
        AssertNames(() => Tensor.Scalar(1.0).CrossEntropy([0]), "CrossEntropy", "[]");
    }

    [Fact]
    public void MeanSquaredErrorNeedsEqualShapes()
    {
        AssertNames(() => T(2, 3).MeanSquaredError(T(3, 2)), "MeanSquaredError", "[2, 3]", "[3, 2]");
    }

    [Fact]
    public void EmbeddingIdsAndTableShapeAreChecked()
    {
        AssertNames<ArgumentOutOfRangeException>(() => T(5, 3).Embedding([1, 7]), "Embedding", "id 7", "[5, 3]");
        AssertNames<ArgumentOutOfRangeException>(() => T(5, 3).Embedding([-1]), "Embedding", "id -1", "[5, 3]");
        AssertNames(() => T(5, 3).Embedding([1, 2, 3], 2, 2), "Embedding", "[2, 2]");
        AssertNames(() => T(5).Embedding([1]), "Embedding", "[5]");
    }

    [Fact]
    public void WhereBranchesAndMaskAreChecked()
    {
        AssertNames(() => Tensor.Where(T(2, 3), T(2, 3), T(3, 2)), "Where", "[2, 3]", "[3, 2]");
        AssertNames(() => Tensor.Where(T(4), T(2, 3), T(2, 3)), "Where", "[4]", "[2, 3]");
        AssertNames(() => Tensor.Where(T(2, 1, 3), T(2, 3), T(2, 3)), "Where", "[2, 1, 3]", "[2, 3]");
    }

    [Fact]
    public void BackwardSeedMustMatchTheOutputShape()
    {
        var y = T(2, 3).RequireGrad() * 2.0;
        AssertNames(() => y.Backward(T(6)), "Backward", "[6]", "[2, 3]");
        Tape.Current.Reset();
    }

    [Fact]
    public void FactoriesRejectNegativeDimensionsAndMisfittingValues()
    {
        AssertNames(() => Tensor.Zeros<double>(2, -1), "Zeros", "[2, -1]");
        AssertNames(() => Tensor.Full(1.0, -3), "Full", "[-3]");
        AssertNames(() => Tensor.FromArray(new double[5], 2, 3), "FromArray", "5 values", "[2, 3]");
        AssertNames(() => Tensor.RandomNormal<double>(new Rng(1), [3, -2]), "RandomNormal", "[3, -2]");
    }

    [Fact]
    public void AxisOutOfRangeNamesTheAxisAndTheRank()
    {
        AssertNames<ArgumentOutOfRangeException>(() => T(2, 3).Sum(2), "Sum", "axis 2", "rank 2");
        AssertNames<ArgumentOutOfRangeException>(() => T(2, 3).Softmax(-3), "Softmax", "axis -3", "rank 2");
        AssertNames(() => T(3).Transpose(), "Transpose", "[3]");
    }
}
