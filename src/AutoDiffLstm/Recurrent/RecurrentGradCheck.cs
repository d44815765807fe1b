using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>One-call gradient verification of a recurrent layer (any cell, any stack) against central differences.</summary>
public static class RecurrentGradCheck
{
    private const double FloatEpsilon = 1.19e-7, DoubleEpsilon = 2.2e-16;

    /// <summary>Central-difference step of a float check (about the cube root of float's epsilon, which balances truncation against rounding).</summary>
    public const double FloatStep = 5e-3;

    /// <summary>Rounding floor of a float check, in units of eps |loss terms| / h (calibrated: over LSTM, GRU, tanh RNN and custom cells at T = 4 to 100, correct gradients used at most 4 % of the whole tolerance).</summary>
    public const double FloatRoundingFactor = 4;

    /// <summary>Smallest relative tolerance of a float check: the rounding of the float backward pass itself.</summary>
    public const double FloatRelativeTolerance = 1e-3;

    /// <summary>
    /// Checks the gradient of the random linear functional of <see cref="RecurrentObjective{T}"/> with respect to every
    /// parameter, the input sequence and the given initial states. With truncated BPTT (options.DetachEvery &gt; 0) the
    /// analytic side is the truncated backward pass and the numeric side differentiates the truncated objective
    /// (<see cref="RecurrentObjective{T}.TruncatedObjective"/>): GradCheck computes analytic gradients from inputs
    /// that require gradients and finite differences from plain copies, so the function dispatches on that. The absolute
    /// tolerance is never below the rounding floor of the central differences, 100 eps |loss terms| / h: finite
    /// differences cannot resolve anything smaller.
    /// In float the check is its own, and can fail: the step defaults to <see cref="FloatStep"/> instead of double's
    /// 1e-6 (whose rounding error, eps |loss terms| / h, would exceed the loss itself), each difference is also taken at
    /// 2h to measure its error (<see cref="GradCheckOptions.EstimateNumericError"/>), the rounding floor is
    /// <see cref="FloatRoundingFactor"/> eps |loss terms| / h, and the relative tolerance is at least
    /// <see cref="FloatRelativeTolerance"/> (the float backward pass's own rounding). The report's
    /// <see cref="GradCheckReport.Tolerance"/> shows what was used.
    /// The report's input indices follow <see cref="RecurrentObjective{T}.InputNames"/>.
    /// </summary>
    public static GradCheckReport Check<T>(RecurrentLayer<T> layer, Tensor<T> x, SequenceOptions<T>? options = null,
        GradCheckOptions? check = null, ulong seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var objective = new RecurrentObjective<T>(layer, x, options, seed);
        check ??= new GradCheckOptions();
        if (typeof(T) == typeof(float))
        {
            // A step the caller left at double's default is replaced; one the caller chose is kept.
            double step = check.Step == new GradCheckOptions().Step ? FloatStep : check.Step;
            check = check with
            {
                Step = step,
                EstimateNumericError = true,
                AbsoluteTolerance = Math.Max(check.AbsoluteTolerance, FloatRoundingFactor * FloatEpsilon * objective.Magnitude() / step),
                RelativeTolerance = Math.Max(check.RelativeTolerance, FloatRelativeTolerance),
            };
        }
        else check = check with { AbsoluteTolerance = Math.Max(check.AbsoluteTolerance, 100 * DoubleEpsilon * objective.Magnitude() / check.Step) };
        if (options is not { DetachEvery: > 0 }) return GradCheck.Check<T>(objective.Evaluate, objective.Inputs, check);
        return GradCheck.Check<T>(inputs => Autograd.IsGradEnabled && inputs.Any(t => t.RequiresGrad)
            ? objective.Evaluate(inputs)
            : objective.TruncatedObjective(inputs), objective.Inputs, check);
    }
}
