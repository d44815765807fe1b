using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay, following the update of
/// PyTorch's <c>torch.optim.SGD</c> (dampening 0), per parameter at step t with gradient g_t:
/// <code>
/// g_t ← g_t + λ θ_{t-1}                      (weight decay λ, coupled: an L2 penalty λ/2 ‖θ‖² added to the loss)
/// b_t ← μ b_{t-1} + g_t     (b_1 = g_1)       (momentum μ &gt; 0)
/// g_t ← g_t + μ b_t  if Nesterov, else g_t ← b_t
/// θ_t ← θ_{t-1} − γ g_t                       (learning rate γ)
/// </code>
/// As PyTorch notes, this momentum form scales the learning rate outside the velocity, unlike Sutskever et al. (2013),
/// "On the importance of initialization and momentum in deep learning", whose Nesterov formula it is based on.
/// </summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][]? velocity;

    /// <param name="parameters">The tensors to update.</param>
    /// <param name="learningRate">γ.</param>
    /// <param name="momentum">μ &gt;= 0; 0 disables momentum (no buffer is kept).</param>
    /// <param name="nesterov">Use Nesterov momentum; needs μ &gt; 0.</param>
    /// <param name="weightDecay">λ &gt;= 0, added to the gradient as λ θ.</param>
    public Sgd(IReadOnlyList<Tensor<T>> parameters, double learningRate, double momentum = 0, bool nesterov = false, double weightDecay = 0)
        : base("SGD", parameters, learningRate)
    {
        RequireNonNegative(momentum, nameof(momentum));
        RequireNonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && momentum <= 0)
            throw new ArgumentException($"SGD: Nesterov momentum needs momentum > 0, got momentum = {momentum}.", nameof(nesterov));
        Momentum = momentum;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
        if (momentum > 0) velocity = AllocateState();
    }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether the Nesterov form is used.</summary>
    public bool Nesterov { get; }

    /// <summary>λ (L2, coupled to the gradient).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    protected override void Update(int index, int step, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        var rule = new Rule(Cast(LearningRate), Cast(WeightDecay), Cast(Momentum), velocity is not null, Nesterov);
        UpdateLoop.Run(rule, parameter, gradient, velocity is null ? default : velocity[index], default, default);
    }

    private readonly struct Rule(T lr, T weightDecay, T momentum, bool useMomentum, bool nesterov) : IUpdateRule<T>
    {
        private readonly Vector<T> lr = new(lr), wd = new(weightDecay), mu = new(momentum);

        public void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> b, ref Vector<T> unused2, ref Vector<T> unused3)
        {
            var d = g + wd * p;
            if (useMomentum)
            {
                // b starts at zero, so μ·0 + g_1 reproduces PyTorch's b_1 = g_1 exactly.
                b = mu * b + d;
                d = nesterov ? d + mu * b : b;
            }
            p -= lr * d;
        }
    }
}
