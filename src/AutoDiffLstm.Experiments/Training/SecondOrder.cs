using System.Diagnostics;
using System.Numerics;
using AutoDiffLstm.Diagnostics;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Tasks;
using AutoDiffLstm.Training;

namespace AutoDiffLstm.Experiments.Training;

/// <summary>One Hessian-free step's internals: the damping λ its CG used, the CG work, the reduction ratio ρ and the line-search step size.</summary>
public readonly record struct HessianFreeRecord(int Step, double Damping, int CgIterations, int ChosenIteration, double ReductionRatio, double StepSize);

/// <summary>A curvature measurement: the top eigenvalues (descending) of the Hessian and of the Gauss-Newton matrix, and the Hessian's smallest.</summary>
public sealed record CurvatureRecord(int Step, IReadOnlyList<double> HessianTop, double HessianSmallest, IReadOnlyList<double> GaussNewtonTop, double Seconds);

/// <summary>The model and task as functions of the parameters, for <see cref="HessianFree{T}"/> and <see cref="Curvature"/>.</summary>
public static class SecondOrder
{
    /// <summary>
    /// The Hessian-free data of one step: the loss on <paramref name="batch"/> and the model's output and hidden states on
    /// its first <paramref name="curvatureBatch"/> sequences (Martens 2010: a subset of the gradient batch for the curvature).
    /// </summary>
    public static HessianFreeBatch<T> HessianFreeBatch<T>(SequenceModel<T> model, ISequenceTask<T> task, SequenceBatch<T> batch, int curvatureBatch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sub = FirstSequences(batch, curvatureBatch);
        return new HessianFreeBatch<T>(p => model.WithParameters(p).Loss(task, batch), p =>
        {
            var (prediction, hidden) = model.WithParameters(p).PredictWithStates(sub.Inputs, task.LossPlacement);
            return new CurvatureOutputs<T>(prediction, hidden);
        }, SequenceModel<T>.CurvatureLoss(task, sub));
    }

    /// <summary>The top <paramref name="count"/> eigenvalues of the Hessian and the Gauss-Newton matrix of the loss on <paramref name="batch"/> at the model's parameters.</summary>
    public static CurvatureRecord Measure<T>(int step, SequenceModel<T> model, ISequenceTask<T> task, SequenceBatch<T> batch, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var watch = Stopwatch.StartNew();
        var parameters = model.Parameters();
        var hessian = Curvature.TopHessianEigenvalues(p => model.WithParameters(p).Loss(task, batch), parameters, count);
        var gaussNewton = Curvature.TopGaussNewtonEigenvalues(p => model.WithParameters(p).Predict(batch.Inputs, task.LossPlacement), parameters,
            SequenceModel<T>.CurvatureLoss(task, batch), count);
        return new CurvatureRecord(step, hessian.Top, hessian.Smallest, gaussNewton.Top, watch.Elapsed.TotalSeconds);
    }

    /// <summary>The first <paramref name="count"/> sequences of <paramref name="batch"/> (class targets of every-step tasks are step-major).</summary>
    public static SequenceBatch<T> FirstSequences<T>(SequenceBatch<T> batch, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = batch.BatchSize, steps = batch.Steps;
        if (count < 1 || count > b) throw new ArgumentOutOfRangeException(nameof(count), count, $"SecondOrder.FirstSequences: asked for {count} sequences of a batch of {b}.");
        if (count == b) return batch;
        var inputs = batch.Inputs.Narrow(1, 0, count).Clone();
        int[]? ids = batch.InputIds is null ? null : StepMajor(batch.InputIds, steps, b, count);
        if (batch.RegressionTargets is { } targets)
            return new SequenceBatch<T>(inputs, ids, targets.Narrow(0, 0, count).Clone(), null);
        var classes = batch.ClassTargets!;
        return new SequenceBatch<T>(inputs, ids, null, classes.Length == b ? classes[..count] : StepMajor(classes, steps, b, count));
    }

    private static int[] StepMajor(int[] values, int steps, int batch, int count)
    {
        var result = new int[steps * count];
        for (int t = 0; t < steps; t++) Array.Copy(values, t * batch, result, t * count, count);
        return result;
    }
}
