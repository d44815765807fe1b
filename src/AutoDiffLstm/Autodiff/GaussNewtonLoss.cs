using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// A loss of the model's output z whose second derivative in z is known in closed form, for
/// <see cref="Autograd.GaussNewtonVectorProduct{T}"/>: it supplies L(z) and the product H_L u.
/// </summary>
public abstract class GaussNewtonLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected GaussNewtonLoss() { }

    /// <summary>The loss of the model output <paramref name="z"/>, as a recorded scalar.</summary>
    public abstract Tensor<T> Loss(Tensor<T> z);

    /// <summary>H_L(z) u, the loss curvature in z applied to <paramref name="u"/> (same shape as z).</summary>
    public abstract Tensor<T> CurvatureTimes(Tensor<T> z, Tensor<T> u);

    /// <summary>L = mean((z - target)^2) over all n elements: H_L = (2 / n) I.</summary>
    public static GaussNewtonLoss<T> MeanSquaredError(Tensor<T> target) => new Mse(target);

    /// <summary>
    /// L = mean over rows r of cross-entropy(softmax(z_r), target_r) for logits [..., C]: per row
    /// H_L = (diag(p) - p p^T) / N with p = softmax(z_r), the Fisher matrix of the categorical likelihood.
    /// </summary>
    public static GaussNewtonLoss<T> SoftmaxCrossEntropy(int[] targets) => new CrossEntropyLoss((int[])targets.Clone());

    private sealed class Mse(Tensor<T> target) : GaussNewtonLoss<T>
    {
        public override Tensor<T> Loss(Tensor<T> z) => z.MeanSquaredError(target);

        public override Tensor<T> CurvatureTimes(Tensor<T> z, Tensor<T> u) => u * T.CreateChecked(2.0 / Math.Max(1, z.Size));
    }

    private sealed class CrossEntropyLoss(int[] targets) : GaussNewtonLoss<T>
    {
        public override Tensor<T> Loss(Tensor<T> z) => z.CrossEntropy(targets);

        public override Tensor<T> CurvatureTimes(Tensor<T> z, Tensor<T> u)
        {
            var p = z.Softmax(-1);
            var pu = p * u;
            return (pu - p * pu.Sum(-1, keepDim: true)) * T.CreateChecked(1.0 / Math.Max(1, targets.Length));
        }
    }
}
