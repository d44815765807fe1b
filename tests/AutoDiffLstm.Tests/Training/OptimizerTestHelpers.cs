namespace AutoDiffLstm.Tests.Training;

internal static class OptimizerTestHelpers
{
    public static Tensor<double> Param(params double[] values) => Tensor.FromArray(values).RequireGrad();

    public static void SetGrad(Tensor<double> p, params double[] g) => p.Grad = Tensor.FromArray(g);

    public static void AssertClose(double[] expected, ReadOnlySpan<double> actual, double relTol = 1e-13)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = relTol * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tol:G3})");
        }
    }

    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double relTol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = relTol * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tol:G3})");
        }
    }
}
