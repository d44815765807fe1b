using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// What the curvature mini-batch's model returns for <see cref="HessianFree{T}"/>: the output z that the loss scores,
/// and (for structural damping) the hidden states h whose change is penalised; null when not needed.
/// </summary>
/// <param name="Output">The model output z(θ) on the curvature batch.</param>
/// <param name="Hidden">The hidden states h(θ) on the curvature batch (any shape), or null.</param>
public readonly record struct CurvatureOutputs<T>(Tensor<T> Output, Tensor<T>? Hidden) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// One step's data for <see cref="HessianFree{T}"/>, as functions of the parameters (given as fresh tensors in the
/// optimizer's parameter order) so that the optimizer can evaluate them at trial points: the loss on the gradient batch,
/// and the model on the curvature batch (Martens 2010, §4.3: a subset of the gradient batch is enough for the
/// Gauss-Newton products and much cheaper) with the loss whose curvature in z is known.
/// </summary>
public sealed class HessianFreeBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="loss">θ ↦ f(θ), the scalar training loss on the gradient batch.</param>
    /// <param name="curvatureModel">θ ↦ (z, h) on the curvature batch.</param>
    /// <param name="curvatureLoss">The loss of z on the curvature batch (its targets), for G = Jᵀ H_L J.</param>
    public HessianFreeBatch(Func<Tensor<T>[], Tensor<T>> loss, Func<Tensor<T>[], CurvatureOutputs<T>> curvatureModel, GaussNewtonLoss<T> curvatureLoss)
    {
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
        CurvatureModel = curvatureModel ?? throw new ArgumentNullException(nameof(curvatureModel));
        CurvatureLoss = curvatureLoss ?? throw new ArgumentNullException(nameof(curvatureLoss));
    }

    /// <summary>θ ↦ f(θ) on the gradient batch.</summary>
    public Func<Tensor<T>[], Tensor<T>> Loss { get; }

    /// <summary>θ ↦ (z, h) on the curvature batch.</summary>
    public Func<Tensor<T>[], CurvatureOutputs<T>> CurvatureModel { get; }

    /// <summary>The loss of z on the curvature batch.</summary>
    public GaussNewtonLoss<T> CurvatureLoss { get; }
}

/// <summary>What one <see cref="HessianFree{T}.Step"/> did.</summary>
/// <param name="Loss">f(θ) before the step, on the gradient batch.</param>
/// <param name="NewLoss">f(θ + α p) after it (equal to <paramref name="Loss"/> when the step was rejected).</param>
/// <param name="GradientNorm">‖∇f(θ)‖.</param>
/// <param name="Damping">The λ the step's CG used.</param>
/// <param name="NextDamping">λ after the Levenberg-Marquardt update.</param>
/// <param name="ReductionRatio">ρ of the backtracked iterate (before any line search).</param>
/// <param name="CgIterations">Products CG spent.</param>
/// <param name="ChosenIteration">The CG iteration whose iterate backtracking chose.</param>
/// <param name="StepSize">α of the line search (1: the CG step as it is; 0: rejected).</param>
/// <param name="CgStop">Why CG stopped.</param>
public readonly record struct HessianFreeStepReport(double Loss, double NewLoss, double GradientNorm, double Damping, double NextDamping,
    double ReductionRatio, int CgIterations, int ChosenIteration, double StepSize, ConjugateGradientStop CgStop);
