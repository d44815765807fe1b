namespace AutoDiffLstm.Tests;

/// <summary>Element-by-element comparison with an absolute tolerance, reporting the first mismatch by index.</summary>
internal static class Approx
{
    public static void Equal(double[] expected, double[] actual, double tolerance, string what = "value")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance:G3}).");
    }

    public static void Equal(double[] expected, Tensor<double>? actual, double tolerance, string what = "value")
    {
        Assert.NotNull(actual);
        Equal(expected, actual!.ToArray(), tolerance, what);
    }
}
