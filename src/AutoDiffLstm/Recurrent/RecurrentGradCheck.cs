using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>One-call gradient verification of a recurrent layer (any cell, any stack) against central differences.</summary>
public static class RecurrentGradCheck
{
    /// <summary>
    /// Checks the gradient of the random linear functional of <see cref="RecurrentObjective{T}"/> with respect to every
    /// parameter, the input sequence and the given initial states. With truncated BPTT (options.DetachEvery &gt; 0) the
    /// analytic side is the truncated backward pass and the numeric side differentiates the truncated objective
    /// (<see cref="RecurrentObjective{T}.TruncatedObjective"/>): GradCheck computes analytic gradients from inputs
    /// that require gradients and finite differences from plain copies, so the function dispatches on that. The absolute
    /// tolerance is never below the rounding floor of the central differences, 100 eps |loss terms| / h: finite
    /// differences cannot resolve anything smaller.
    /// The report's input indices follow <see cref="RecurrentObjective{T}.InputNames"/>.
    /// </summary>
    public static GradCheckReport Check<T>(RecurrentLayer<T> layer, Tensor<T> x, SequenceOptions<T>? options = null,
        GradCheckOptions? check = null, ulong seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var objective = new RecurrentObjective<T>(layer, x, options, seed);
        check ??= new GradCheckOptions();
        double eps = typeof(T) == typeof(float) ? 1.2e-7 : 2.2e-16;
        check = check with { AbsoluteTolerance = Math.Max(check.AbsoluteTolerance, 100 * eps * objective.Magnitude() / check.Step) };
        if (options is not { DetachEvery: > 0 }) return GradCheck.Check<T>(objective.Evaluate, objective.Inputs, check);
        return GradCheck.Check<T>(inputs => Autograd.IsGradEnabled && inputs.Any(t => t.RequiresGrad)
            ? objective.Evaluate(inputs)
            : objective.TruncatedObjective(inputs), objective.Inputs, check);
    }
}
