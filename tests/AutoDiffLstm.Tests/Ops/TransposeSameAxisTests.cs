namespace AutoDiffLstm.Tests.Ops;

/// <summary>Regression: Transpose(d, d) used to index past the end of its copy (found by the primitive properties).</summary>
public class TransposeSameAxisTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, -1)]
    public void TransposingAnAxisWithItselfIsTheIdentity(int dim0, int dim1)
    {
        var x = Tensor.Arange<double>(24).Reshape(2, 3, 4);
        var y = x.Transpose(dim0, dim1);
        Assert.Equal(x.Shape, y.Shape);
        Assert.Equal(x.ToArray(), y.ToArray());
        var report = GradCheck.Check<double>(t => t.Transpose(dim0, dim1), Tensor.RandomNormal<double>(new Rng(3), [2, 3, 4]));
        Assert.True(report.Passed, report.ToString());
    }
}
