using System.Numerics;
using AutoDiffLstm.Recurrent;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm.Training.Online;

/// <summary>
/// Unbiased Online Recurrent Optimization (Tallec and Ollivier 2017, Algorithm 1): the sensitivity S_t = ds_t/dθ of
/// <see cref="Rtrl{T}"/> replaced by a rank-one estimate s̃_t θ̃_t^T with E[s̃_t θ̃_t^T] = S_t. Each step draws a vector ν
/// of independent random signs over the state and updates
/// <code>
/// s̃_t = ρ0 · ∂F/∂s_{t-1} s̃_{t-1} + ρ1 · ν                     (one forward-mode tangent pass)
/// θ̃_t = θ̃_{t-1} / ρ0 + (ν^T ∂F/∂θ) / ρ1                       (one reverse pass)
/// ρ0 = sqrt((‖θ̃_{t-1}‖ + ε) / (‖∂F/∂s s̃_{t-1}‖ + ε)),   ρ1 = sqrt((‖ν^T ∂F/∂θ‖ + ε) / (‖ν‖ + ε))
/// dℓ_t/dθ ≈ (∂ℓ_t/∂s_t · s̃_t) θ̃_t
/// </code>
/// The product expands to ∂F/∂s S̃_{t-1} + ν ν^T ∂F/∂θ plus two cross terms that are odd in ν; since E[ν ν^T] = I and
/// the normalisers are even in ν, the estimate is unbiased given the past, hence unbiased. The ρ's balance the norms of
/// the two factors, the paper's choice for keeping the variance the cross terms add small; a small ε (here 1e-7) keeps
/// them finite at the zero start. Cost per step: one tangent and one reverse pass, and P + |s|
/// numbers of memory. A batch is treated as one system whose state is the stacked rows (the estimate is of the
/// block-diagonal batch sensitivity, still unbiased).
/// </summary>
public sealed class Uoro<T> : OnlineGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double Epsilon = 1e-7;
    private readonly Rng rng;
    private T[][] stateFactor;      // s̃, one flat array per state tensor
    private T[][] parameterFactor;  // θ̃, one flat array per parameter tensor

    /// <summary>UORO for <paramref name="cell"/>; <paramref name="rng"/> draws the random signs ν.</summary>
    public Uoro(RecurrentCell<T> cell, Rng rng, int batchSize = 1) : base("Uoro", cell, batchSize)
    {
        this.rng = rng ?? throw new ArgumentNullException(nameof(rng));
        (stateFactor, parameterFactor) = (NewState(), NewParameters());
    }

    /// <inheritdoc/>
    public override long SensitivityElements => ParameterCount + StateCount;

    /// <summary>The current rank-one estimate s̃ θ̃^T of ds_t/dθ as a [state scalars, P] matrix, rows as in <see cref="Rtrl{T}.Sensitivity"/>.</summary>
    public Tensor<T> Sensitivity()
    {
        var s = stateFactor.SelectMany(a => a).ToArray();
        var theta = parameterFactor.SelectMany(a => a).ToArray();
        var m = new T[s.Length * theta.Length];
        for (int r = 0; r < s.Length; r++) TP.Multiply(theta, s[r], m.AsSpan(r * theta.Length, theta.Length));
        return new Tensor<T>([s.Length, theta.Length], m);
    }

    private protected override void Advance(RecordedStep<T> step)
    {
        var noTangent = new Tensor<T>?[ParameterSizes.Length];
        var carried = step.Push(noTangent, stateFactor.Select((s, i) => (Tensor<T>?)new Tensor<T>([.. step.Previous[i].Shape], s)).ToArray());
        var jacobianTimesState = carried.Select((c, i) => c?.ToArray() ?? new T[StateSizes[i]]).ToArray();
        var signs = StateSizes.Select(n => Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.5 ? -T.One : T.One).ToArray()).ToArray();
        var (pulled, _) = step.Pull(signs.Select((v, i) => new Tensor<T>([.. step.Previous[i].Shape], v)).ToArray());
        var signsTimesJacobian = pulled.Select(p => p.ToArray()).ToArray();

        double rho0 = Math.Sqrt((Norm(parameterFactor) + Epsilon) / (Norm(jacobianTimesState) + Epsilon));
        double rho1 = Math.Sqrt((Norm(signsTimesJacobian) + Epsilon) / (Norm(signs) + Epsilon));
        T r0 = T.CreateChecked(rho0), r1 = T.CreateChecked(rho1);
        for (int i = 0; i < stateFactor.Length; i++)
        {
            TP.Multiply(jacobianTimesState[i], r0, stateFactor[i]);
            TP.MultiplyAdd(signs[i], r1, stateFactor[i], stateFactor[i]);
        }
        for (int j = 0; j < parameterFactor.Length; j++)
        {
            TP.Divide(parameterFactor[j], r0, parameterFactor[j]);
            TP.MultiplyAdd(signsTimesJacobian[j], T.One / r1, parameterFactor[j], parameterFactor[j]);
        }
    }

    private protected override T[][] Estimate(T[][] lossStateGradient)
    {
        T projection = T.Zero;
        for (int i = 0; i < lossStateGradient.Length; i++) projection += Dot(lossStateGradient[i], stateFactor[i]);
        return parameterFactor.Select(theta => { var g = new T[theta.Length]; TP.Multiply(theta, projection, g); return g; }).ToArray();
    }

    private protected override void ResetSensitivity() => (stateFactor, parameterFactor) = (NewState(), NewParameters());

    private T[][] NewState() => StateSizes.Select(n => new T[n]).ToArray();

    private T[][] NewParameters() => ParameterSizes.Select(n => new T[n]).ToArray();

    private static double Norm(T[][] parts)
    {
        double sum = 0;
        foreach (var p in parts)
            foreach (var v in p) { double d = double.CreateChecked(v); sum += d * d; }
        return Math.Sqrt(sum);
    }
}
