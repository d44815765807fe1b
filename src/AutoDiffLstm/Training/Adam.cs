using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015, "Adam: A Method for Stochastic Optimization", Algorithm 1), with the update of PyTorch's
/// <c>torch.optim.Adam</c> (amsgrad off), per parameter at its step t:
/// <code>
/// g_t ← g_t + λ θ_{t-1}                          (weight decay λ, coupled L2 as in PyTorch's Adam)
/// m_t ← β1 m_{t-1} + (1 − β1) g_t
/// v_t ← β2 v_{t-1} + (1 − β2) g_t²
/// m̂_t ← m_t / (1 − β1^t),   v̂_t ← v_t / (1 − β2^t)
/// θ_t ← θ_{t-1} − γ m̂_t / (√v̂_t + ε)
/// </code>
/// The last line is evaluated as PyTorch does, θ − (γ / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε), which is the same
/// quantity. For decoupled weight decay use <see cref="AdamW{T}"/>.
/// </summary>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] firstMoment, secondMoment;
    private readonly bool decoupled;

    /// <param name="parameters">The tensors to update.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-3).</param>
    /// <param name="beta1">β1 in [0, 1).</param>
    /// <param name="beta2">β2 in [0, 1).</param>
    /// <param name="epsilon">ε &gt;= 0, added to √v̂.</param>
    /// <param name="weightDecay">λ &gt;= 0, coupled L2: added to the gradient as λ θ.</param>
    public Adam(IReadOnlyList<Tensor<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0)
        : this("Adam", parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false) { }

    private protected Adam(string name, IReadOnlyList<Tensor<T>> parameters, double learningRate, double beta1, double beta2,
        double epsilon, double weightDecay, bool decoupled)
        : base(name, parameters, learningRate)
    {
        RequireUnitInterval(beta1, nameof(beta1));
        RequireUnitInterval(beta2, nameof(beta2));
        RequireNonNegative(epsilon, nameof(epsilon));
        RequireNonNegative(weightDecay, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        this.decoupled = decoupled;
        firstMoment = AllocateState();
        secondMoment = AllocateState();
    }

    /// <summary>β1, the decay of the first-moment average.</summary>
    public double Beta1 { get; }

    /// <summary>β2, the decay of the second-moment average.</summary>
    public double Beta2 { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>λ: coupled L2 for Adam, decoupled for AdamW.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    protected override void Update(int index, int step, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        // Bias corrections in double: β^t underflows gracefully and 1 − β^t keeps its digits even for float parameters.
        double bc1 = 1 - Math.Pow(Beta1, step), bc2 = 1 - Math.Pow(Beta2, step);
        var rule = new Rule(
            beta1: Cast(Beta1), beta2: Cast(Beta2),
            stepSize: Cast(LearningRate / bc1), invSqrtBc2: Cast(1 / Math.Sqrt(bc2)), eps: Cast(Epsilon),
            l2: Cast(decoupled ? 0 : WeightDecay),
            shrink: Cast(decoupled ? 1 - LearningRate * WeightDecay : 1));
        UpdateLoop.Run(rule, parameter, gradient, firstMoment[index], secondMoment[index], default);
    }

    private readonly struct Rule(T beta1, T beta2, T stepSize, T invSqrtBc2, T eps, T l2, T shrink) : IUpdateRule<T>
    {
        private readonly Vector<T> b1 = new(beta1), c1 = new(T.One - beta1), b2 = new(beta2), c2 = new(T.One - beta2),
            stepSize = new(stepSize), invSqrtBc2 = new(invSqrtBc2), eps = new(eps), l2 = new(l2), shrink = new(shrink);

        public void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> m, ref Vector<T> v, ref Vector<T> unused)
        {
            var d = g + l2 * p;   // uses θ_{t-1}; l2 is 0 for AdamW
            p *= shrink;          // AdamW: θ ← θ − γλθ before the Adam step; shrink is 1 for Adam
            m = b1 * m + c1 * d;
            v = b2 * v + c2 * d * d;
            var denom = Vector.SquareRoot(v) * invSqrtBc2 + eps;
            p -= stepSize * m / denom;
        }
    }
}
