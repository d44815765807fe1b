using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// RMSProp (Tieleman &amp; Hinton 2012, Coursera "Neural Networks for Machine Learning", lecture 6.5; the centered form
/// is from Graves 2013, "Generating Sequences With Recurrent Neural Networks"), with the update of PyTorch's
/// <c>torch.optim.RMSprop</c>:
/// <code>
/// g_t ← g_t + λ θ_{t-1}                             (weight decay λ, coupled L2)
/// v_t ← α v_{t-1} + (1 − α) g_t²
/// ṽ_t ← v_t;  if centered: ḡ_t ← α ḡ_{t-1} + (1 − α) g_t,  ṽ_t ← v_t − ḡ_t²
/// if μ &gt; 0:  b_t ← μ b_{t-1} + g_t / (√ṽ_t + ε),  θ_t ← θ_{t-1} − γ b_t
/// else:       θ_t ← θ_{t-1} − γ g_t / (√ṽ_t + ε)
/// </code>
/// ε is added after the square root (as PyTorch; TensorFlow adds it inside). One guard PyTorch lacks: ṽ_t is clamped
/// at 0 before the root. Mathematically v_t ≥ ḡ_t², so this changes only results that rounding would turn into NaN.
/// </summary>
public sealed class RmsProp<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] squareAverage;
    private readonly T[][]? gradientAverage, buffer;

    /// <param name="parameters">The tensors to update.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-2).</param>
    /// <param name="alpha">α in [0, 1), the smoothing constant.</param>
    /// <param name="epsilon">ε &gt;= 0.</param>
    /// <param name="weightDecay">λ &gt;= 0, coupled L2.</param>
    /// <param name="momentum">μ &gt;= 0; 0 disables the momentum buffer.</param>
    /// <param name="centered">Normalise by an estimate of the gradient's variance instead of its second moment.</param>
    public RmsProp(IReadOnlyList<Tensor<T>> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base("RMSProp", parameters, learningRate)
    {
        RequireUnitInterval(alpha, nameof(alpha));
        RequireNonNegative(epsilon, nameof(epsilon));
        RequireNonNegative(weightDecay, nameof(weightDecay));
        RequireNonNegative(momentum, nameof(momentum));
        Alpha = alpha;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        Momentum = momentum;
        Centered = centered;
        squareAverage = AllocateState();
        if (centered) gradientAverage = AllocateState();
        if (momentum > 0) buffer = AllocateState();
    }

    /// <summary>α.</summary>
    public double Alpha { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>λ (coupled L2).</summary>
    public double WeightDecay { get; }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether the centered form is used.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override void Update(int index, int step, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        var rule = new Rule(Cast(LearningRate), Cast(Alpha), Cast(Epsilon), Cast(WeightDecay), Cast(Momentum), Centered, buffer is not null);
        UpdateLoop.Run(rule, parameter, gradient, squareAverage[index],
            gradientAverage is null ? default : gradientAverage[index], buffer is null ? default : buffer[index]);
    }

    private readonly struct Rule(T lr, T alpha, T eps, T weightDecay, T momentum, bool centered, bool useMomentum) : IUpdateRule<T>
    {
        private readonly Vector<T> lr = new(lr), a = new(alpha), c = new(T.One - alpha), eps = new(eps), wd = new(weightDecay), mu = new(momentum);

        public void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> v, ref Vector<T> gAvg, ref Vector<T> b)
        {
            var d = g + wd * p;
            v = a * v + c * d * d;
            var variance = v;
            if (centered)
            {
                gAvg = a * gAvg + c * d;
                variance = Vector.Max(v - gAvg * gAvg, Vector<T>.Zero);
            }
            var scaled = d / (Vector.SquareRoot(variance) + eps);
            if (useMomentum)
            {
                b = mu * b + scaled;
                p -= lr * b;
            }
            else p -= lr * scaled;
        }
    }
}
