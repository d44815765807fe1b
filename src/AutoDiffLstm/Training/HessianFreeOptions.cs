namespace AutoDiffLstm.Training;

/// <summary>
/// Settings of <see cref="HessianFree{T}"/>; the defaults are those of Martens (2010) and Martens and Sutskever (2011)
/// where the papers give one.
/// </summary>
public sealed record HessianFreeOptions
{
    /// <summary>λ₀, the initial Tikhonov damping added to the curvature as λ I (adapted after every step).</summary>
    public double InitialDamping { get; init; } = 1.0;

    /// <summary>
    /// μ, the weight of the structural damping of Martens and Sutskever (2011, §3.1): the penalty λ μ D(h(θ), h(θ_k))
    /// on the change of the hidden states, with D = ½ ‖Δh‖² / N_h (N_h: the number of hidden-state elements of the
    /// curvature batch), enters the curvature as the Gauss-Newton term λ μ J_hᵀ J_h / N_h. 0 turns it off.
    /// </summary>
    public double StructuralDamping { get; init; }

    /// <summary>The CG solve of each step (iteration limit, Martens' progress test, kept iterates).</summary>
    public ConjugateGradientOptions ConjugateGradient { get; init; } = new();

    /// <summary>CG starts from this times the previous step's final CG solution (Martens 2010, §4.5: 0.95); 0 starts from zero.</summary>
    public double WarmStartDecay { get; init; } = 0.95;

    /// <summary>How λ follows the reduction ratio ρ.</summary>
    public LevenbergMarquardt DampingRule { get; init; } = new();

    /// <summary>
    /// The most halvings-by-<see cref="LineSearchShrink"/> of the backtracking line search along the chosen CG iterate
    /// when it does not decrease the loss enough (Armijo with c = <see cref="ArmijoConstant"/>; Martens and Sutskever 2012,
    /// §8.8); when every trial fails the step is rejected (step size 0) and λ grows. 0: take the CG step as it is.
    /// </summary>
    public int LineSearchSteps { get; init; } = 10;

    /// <summary>Each line-search trial multiplies the step size by this, in (0, 1).</summary>
    public double LineSearchShrink { get; init; } = 0.8;

    /// <summary>Armijo's c: a step of size α is accepted when f(θ + α p) ≤ f(θ) + c α ∇fᵀp.</summary>
    public double ArmijoConstant { get; init; } = 1e-2;

    /// <summary>Throws naming the setting when one is out of range.</summary>
    public void Validate()
    {
        if (!(InitialDamping > 0) || !double.IsFinite(InitialDamping)) throw new ArgumentOutOfRangeException(nameof(InitialDamping), InitialDamping, $"HessianFree: the initial damping λ must be positive and finite, got {InitialDamping}.");
        if (!(StructuralDamping >= 0) || !double.IsFinite(StructuralDamping)) throw new ArgumentOutOfRangeException(nameof(StructuralDamping), StructuralDamping, $"HessianFree: the structural damping μ must be finite and >= 0, got {StructuralDamping}.");
        if (!(WarmStartDecay >= 0 && WarmStartDecay <= 1)) throw new ArgumentOutOfRangeException(nameof(WarmStartDecay), WarmStartDecay, $"HessianFree: the warm-start decay must be in [0, 1], got {WarmStartDecay}.");
        if (LineSearchSteps < 0) throw new ArgumentOutOfRangeException(nameof(LineSearchSteps), LineSearchSteps, $"HessianFree: LineSearchSteps must be >= 0, got {LineSearchSteps}.");
        if (!(LineSearchShrink > 0 && LineSearchShrink < 1)) throw new ArgumentOutOfRangeException(nameof(LineSearchShrink), LineSearchShrink, $"HessianFree: LineSearchShrink must be in (0, 1), got {LineSearchShrink}.");
        if (!(ArmijoConstant >= 0 && ArmijoConstant < 1)) throw new ArgumentOutOfRangeException(nameof(ArmijoConstant), ArmijoConstant, $"HessianFree: ArmijoConstant must be in [0, 1), got {ArmijoConstant}.");
        ArgumentNullException.ThrowIfNull(ConjugateGradient);
        ArgumentNullException.ThrowIfNull(DampingRule);
        ConjugateGradient.Validate();
        DampingRule.Validate();
        if (InitialDamping < DampingRule.Minimum || InitialDamping > DampingRule.Maximum)
            throw new ArgumentOutOfRangeException(nameof(InitialDamping), InitialDamping, $"HessianFree: the initial damping {InitialDamping} lies outside the damping rule's range [{DampingRule.Minimum}, {DampingRule.Maximum}].");
    }
}
