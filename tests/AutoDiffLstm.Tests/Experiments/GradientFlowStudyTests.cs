using AutoDiffLstm.Experiments.Studies;

namespace AutoDiffLstm.Tests.Experiments;

public class GradientFlowStudyTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(1.3)]
    public void TheScaledCellHasEverySingularValueOfWhhEqualToRhoAndNoBias(double rho)
    {
        var cell = GradientFlowStudy.ScaledOrthogonalRnn(rho, hidden: 6, seed: 3);
        var w = cell.Parameters["weight_hh"];
        var gram = w.MatMul(w, transposeThis: true).ToArray(); // W^T W = rho^2 I
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(i == j ? rho * rho : 0, gram[i * 6 + j], 12);
        Assert.All(cell.Parameters["bias_ih"].ToArray().Concat(cell.Parameters["bias_hh"].ToArray()), b => Assert.Equal(0, b));
        Assert.Equal(1, cell.InputSize);
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(0.9)]
    public void BelowOneTheGradientDecaysByRhoPerStepAsPascanuEtAlPredict(double rho)
    {
        // ||dh_T/dh_t|| <= rho^(T-t) since tanh' <= 1; small inputs keep h near 0, where tanh' is close to 1, so the
        // bound is nearly attained.
        var curve = GradientFlowStudy.SpectralRadiusSweep([rho], steps: 60, hidden: 8, batch: 2, seed: 5).Single();
        double slope = curve.Result.Log10SlopePerStep, predicted = Math.Log10(rho);
        Assert.InRange(slope, predicted - 0.002, predicted + 1e-12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void ANonPositiveRadiusIsRejected(double rho)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GradientFlowStudy.ScaledOrthogonalRnn(rho, 4, 1));
        Assert.Contains("spectral radius", e.Message);
    }
}
