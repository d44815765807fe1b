namespace AutoDiffLstm.Training;

/// <summary>
/// The Levenberg-Marquardt rule that adapts Hessian-free's damping λ from the reduction ratio
/// <code>
/// ρ = (f(θ + p) − f(θ)) / (q(p) − q(0))
/// </code>
/// of the actual decrease to the one the damped quadratic model q predicted (Martens 2010, §4.1): a model that
/// over-promises (ρ &lt; ¼) is trusted less, λ ← λ · <see cref="Increase"/>; one that predicts well (ρ &gt; ¾) more,
/// λ ← λ · <see cref="Decrease"/>; in between λ stays. A step that made things worse (ρ ≤ 0, or ρ not finite) counts as ρ &lt; ¼.
/// </summary>
/// <param name="Increase">Factor for a poor model, &gt; 1 (Martens: 3/2).</param>
/// <param name="Decrease">Factor for a good model, in (0, 1) (Martens: 2/3).</param>
/// <param name="Minimum">λ never goes below this (keeps CG's matrix positive definite when G is singular).</param>
/// <param name="Maximum">λ never goes above this.</param>
public sealed record LevenbergMarquardt(double Increase = 1.5, double Decrease = 2.0 / 3.0, double Minimum = 1e-8, double Maximum = 1e8)
{
    /// <summary>ρ below this shrinks the trust in the model (raises λ).</summary>
    public const double PoorRatio = 0.25;

    /// <summary>ρ above this grows the trust in the model (lowers λ).</summary>
    public const double GoodRatio = 0.75;

    /// <summary>The damping after a step whose reduction ratio was <paramref name="ratio"/>.</summary>
    public double Next(double damping, double ratio)
    {
        Validate();
        if (!(damping > 0) || !double.IsFinite(damping))
            throw new ArgumentOutOfRangeException(nameof(damping), damping, $"LevenbergMarquardt.Next: the damping must be positive and finite, got {damping}.");
        double next = !double.IsFinite(ratio) || ratio < PoorRatio ? damping * Increase
            : ratio > GoodRatio ? damping * Decrease
            : damping;
        return Math.Clamp(next, Minimum, Maximum);
    }

    /// <summary>Throws naming the setting when one is out of range.</summary>
    public void Validate()
    {
        if (!(Increase > 1) || !double.IsFinite(Increase)) throw new ArgumentOutOfRangeException(nameof(Increase), Increase, $"LevenbergMarquardt: Increase must be finite and > 1, got {Increase}.");
        if (!(Decrease > 0 && Decrease < 1)) throw new ArgumentOutOfRangeException(nameof(Decrease), Decrease, $"LevenbergMarquardt: Decrease must be in (0, 1), got {Decrease}.");
        if (!(Minimum > 0) || !(Maximum >= Minimum) || !double.IsFinite(Maximum))
            throw new ArgumentOutOfRangeException(nameof(Minimum), Minimum, $"LevenbergMarquardt: need 0 < Minimum <= Maximum < infinity, got Minimum {Minimum}, Maximum {Maximum}.");
    }
}
