using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// Hessian-free optimisation (Martens 2010, "Deep learning via Hessian-free optimization"; Martens and Sutskever 2011,
/// "Learning Recurrent Neural Networks with Hessian-Free Optimization"): a truncated Newton method that never forms a
/// curvature matrix. Each <see cref="Step"/> at θ
/// <list type="number">
/// <item>computes f(θ) and g = ∇f(θ) on the gradient batch;</item>
/// <item>approximately minimises the damped quadratic model
/// <code>q(p) = gᵀp + ½ pᵀ(G + λ I + λ μ J_hᵀJ_h / N_h) p</code>
/// by conjugate gradient, where G = Jᵀ H_L J is the Gauss-Newton matrix of the curvature batch (positive semi-definite
/// for a convex loss, unlike the Hessian; <see cref="Autograd.GaussNewtonVectorProduct{T}"/>), λ the Tikhonov damping,
/// and the last term the structural damping (<see cref="HessianFreeOptions.StructuralDamping"/>). CG starts from the
/// previous solution times <see cref="HessianFreeOptions.WarmStartDecay"/> and stops by Martens' progress test;</item>
/// <item>backtracks over the kept CG iterates (Martens 2010, §4.6): from the last, step back while f decreases;</item>
/// <item>updates λ by the Levenberg-Marquardt rule on ρ = (f(θ + p) − f(θ)) / q(p)
/// (<see cref="LevenbergMarquardt"/>);</item>
/// <item>if f(θ + p) is not below f(θ) + c gᵀp, shrinks the step by a backtracking line search, and applies θ ← θ + α p.</item>
/// </list>
/// The damping and the warm-start vector are optimizer state (<see cref="Optimizer{T}.StateTensors"/>: state0 is the
/// warm start, state1 holds λ repeated over each parameter's shape), so a checkpoint resumes exactly. The
/// learning rate is not used. The accepted step is applied through <see cref="Optimizer{T}.Step()"/> as a pseudo
/// gradient −α p (so step counts behave as for every optimizer); call <see cref="Step(HessianFreeBatch{T})"/>, not the
/// parameterless Step, which would apply whatever gradients the parameters hold as a plain gradient step of size 1.
/// </summary>
public sealed class HessianFree<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] warmStart, damping;

    /// <param name="parameters">The tensors to optimise.</param>
    /// <param name="options">Damping, CG and line-search settings (defaults: Martens 2010).</param>
    public HessianFree(IReadOnlyList<Tensor<T>> parameters, HessianFreeOptions? options = null)
        : base("HessianFree", parameters, learningRate: 1.0)
    {
        Options = options ?? new HessianFreeOptions();
        Options.Validate();
        warmStart = AllocateState();
        damping = AllocateState();
        SetDamping(Options.InitialDamping);
    }

    /// <summary>The settings.</summary>
    public HessianFreeOptions Options { get; }

    /// <summary>λ, the damping the next step's CG will use.</summary>
    public double Damping
    {
        get
        {
            for (int i = 0; i < damping.Length; i++)
                if (damping[i].Length > 0) return double.CreateTruncating(damping[i][0]);
            return Options.InitialDamping;
        }
    }

    /// <summary>One Hessian-free step on <paramref name="batch"/>; the parameters are updated in place.</summary>
    public HessianFreeStepReport Step(HessianFreeBatch<T> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var theta = Parameters;
        var (f0, gradient) = ValueAndGradient(batch.Loss, theta);
        double gradNorm = ParameterVector.Norm(gradient);
        double lambda = Damping;
        if (!double.IsFinite(f0) || !double.IsFinite(gradNorm))
            return new HessianFreeStepReport(f0, f0, gradNorm, lambda, lambda, double.NaN, 0, 0, 0, ConjugateGradientStop.IterationLimit);

        double structural = lambda * Options.StructuralDamping;
        double[] Multiply(double[] v)
        {
            var gv = ParameterVector.Flatten(CurvatureProduct(batch, theta, ParameterVector.Unflatten(v, theta), structural));
            ParameterVector.AddScaled(gv, lambda, v);
            return gv;
        }
        var b = gradient.Select(x => -x).ToArray();
        var start = ParameterVector.Flatten(warmStart.Select((w, i) => new Tensor<T>([.. theta[i].Dims], w)).ToArray());
        bool warm = Options.WarmStartDecay > 0 && ParameterVector.Norm(start) > 0;
        if (warm) for (int j = 0; j < start.Length; j++) start[j] *= Options.WarmStartDecay;
        var cg = ConjugateGradient.Minimize(Multiply, b, warm ? start : null, Options.ConjugateGradient);

        // Backtracking over the kept iterates: the last one first, then earlier ones while the loss keeps falling.
        int chosen = cg.Iterates.Count - 1;
        double fChosen = LossAt(batch.Loss, theta, cg.Iterates[chosen].Point, 1);
        for (int k = chosen - 1; k >= 0; k--)
        {
            double fk = LossAt(batch.Loss, theta, cg.Iterates[k].Point, 1);
            if (!(fk < fChosen)) break;
            (chosen, fChosen) = (k, fk);
        }
        var p = cg.Iterates[chosen].Point;
        double predicted = cg.Iterates[chosen].Quadratic;
        double ratio = predicted < 0 ? (fChosen - f0) / predicted : double.NaN;
        double nextLambda = Options.DampingRule.Next(lambda, ratio);

        double slope = ParameterVector.Dot(gradient, p), alpha = 1, fNew = fChosen;
        if (Options.LineSearchSteps > 0 && !(fNew <= f0 + Options.ArmijoConstant * slope))
        {
            alpha = 0;
            double trial = 1;
            for (int s = 0; s < Options.LineSearchSteps; s++)
            {
                trial *= Options.LineSearchShrink;
                double ft = LossAt(batch.Loss, theta, p, trial);
                if (ft <= f0 + Options.ArmijoConstant * trial * slope) { (alpha, fNew) = (trial, ft); break; }
            }
            if (alpha == 0) fNew = f0;
        }

        ApplyStep(p, alpha);
        for (int i = 0, at = 0; i < warmStart.Length; i++)
            for (int j = 0; j < warmStart[i].Length; j++) warmStart[i][j] = T.CreateTruncating(cg.Solution[at++]);
        SetDamping(nextLambda);
        return new HessianFreeStepReport(f0, fNew, gradNorm, lambda, Damping, ratio, cg.Iterations, cg.Iterates[chosen].Iteration, alpha, cg.Stop);
    }

    /// <summary>The accepted step enters as the pseudo gradient −α p of <see cref="Optimizer{T}.Step()"/>.</summary>
    protected override void Update(int index, int step, Span<T> parameter, ReadOnlySpan<T> gradient)
    {
        for (int j = 0; j < parameter.Length; j++) parameter[j] -= gradient[j];
    }

    private void ApplyStep(double[] p, double alpha)
    {
        var theta = Parameters;
        var pseudo = ParameterVector.Unflatten(p, theta);
        for (int i = 0; i < theta.Count; i++)
        {
            var data = pseudo[i].Data;
            for (int j = 0; j < data.Length; j++) data[j] = T.CreateTruncating(-alpha * double.CreateTruncating(data[j]));
            theta[i].Grad = pseudo[i];
        }
        base.Step();
        ZeroGrad();
    }

    private void SetDamping(double value)
    {
        var t = T.CreateTruncating(value);
        foreach (var buffer in damping) buffer.AsSpan().Fill(t);
    }

    /// <summary>G v (+ the structural term) on the curvature batch, at the current parameters.</summary>
    internal static Tensor<T>[] CurvatureProduct(HessianFreeBatch<T> batch, IReadOnlyList<Tensor<T>> theta, Tensor<T>[] v, double structural)
    {
        var at = theta.ToArray();
        if (structural == 0)
            return Autograd.GaussNewtonVectorProduct(x => batch.CurvatureModel(x).Output, at, batch.CurvatureLoss, v);
        var combined = new StructuralDampingLoss(batch.CurvatureLoss, structural);
        return Autograd.GaussNewtonVectorProduct(combined.Model(batch.CurvatureModel), at, combined, v);
    }

    private static (double Value, double[] Gradient) ValueAndGradient(Func<Tensor<T>[], Tensor<T>> loss, IReadOnlyList<Tensor<T>> theta)
    {
        using var scope = Tape.UsePrivateTape();
        var leaves = theta.Select(t => t.Detach().RequireGrad()).ToArray();
        var f = loss(leaves);
        if (f.Size != 1) throw new ArgumentException($"HessianFree.Step: the batch's loss must be a scalar, got shape {f.ShapeText}.");
        double value = f.ItemAsDouble();
        var g = Autograd.Grad(f, leaves);
        return (value, ParameterVector.Flatten(g));
    }

    private static double LossAt(Func<Tensor<T>[], Tensor<T>> loss, IReadOnlyList<Tensor<T>> theta, double[] direction, double scale)
    {
        using var scope = Tape.UsePrivateTape();
        using var noGrad = Autograd.NoGrad();
        double value = loss(ParameterVector.Offset(theta, direction, scale)).ItemAsDouble();
        return double.IsFinite(value) ? value : double.PositiveInfinity;
    }

    /// <summary>
    /// The structurally damped curvature as one Gauss-Newton product: the model's output z and hidden states h are
    /// concatenated into one vector, and the "loss curvature" applies H_L to the z part and the weight λμ / N_h to the h part,
    /// so Jᵀ (H_L ⊕ (λμ/N_h) I) J v = G v + (λμ/N_h) J_hᵀ J_h v in one tangent and one backward pass.
    /// </summary>
    private sealed class StructuralDampingLoss(GaussNewtonLoss<T> inner, double weight) : GaussNewtonLoss<T>
    {
        private int[] outputDims = [];
        private int outputSize, hiddenSize;

        public Func<Tensor<T>[], Tensor<T>> Model(Func<Tensor<T>[], CurvatureOutputs<T>> model) => x =>
        {
            var (z, h) = model(x);
            if (h is null) throw new InvalidOperationException("HessianFree: structural damping is on (StructuralDamping > 0) but the batch's curvature model returned no hidden states.");
            (outputDims, outputSize, hiddenSize) = ([.. z.Shape], z.Size, h.Size);
            return Tensor.Concat(0, z.Reshape(-1), h.Reshape(-1));
        };

        public override Tensor<T> Loss(Tensor<T> z) => inner.Loss(Output(z));

        public override Tensor<T> CurvatureTimes(Tensor<T> z, Tensor<T> u)
        {
            var onOutput = inner.CurvatureTimes(Output(z), Output(u)).Reshape(-1);
            var onHidden = u.Narrow(0, outputSize, hiddenSize) * T.CreateTruncating(weight / Math.Max(1, hiddenSize));
            return Tensor.Concat(0, onOutput, onHidden);
        }

        private Tensor<T> Output(Tensor<T> combined) => combined.Narrow(0, 0, outputSize).Reshape(outputDims);
    }
}
