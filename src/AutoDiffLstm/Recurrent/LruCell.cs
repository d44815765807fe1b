using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The Linear Recurrent Unit (Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu and De 2023, "Resurrecting recurrent neural
/// networks for long sequences", Section 3 and Algorithm 1): a complex diagonal linear recurrence with an exponential
/// parametrisation of its eigenvalues and a normalised input:
/// <code>
/// lambda = exp(-exp(nu_log) + i exp(theta_log))          (|lambda| = exp(-exp(nu_log)) &lt; 1 for any nu_log)
/// gamma  = exp(gamma_log)                                (initialised to sqrt(1 - |lambda|^2), Section 3.3)
/// s_t    = lambda * s_{t-1} + gamma * (B x_t)            (complex, elementwise; B = B_re + i B_im)
/// y_t    = Re(C s_t) + D x_t                             (C = C_re + i C_im)
/// </code>
/// Complex numbers are stored as real pairs: s = (s_re, s_im), and the recurrence is two coupled real ones,
/// s_re' = l_re s_re - l_im s_im + gamma B_re x, s_im' = l_re s_im + l_im s_re + gamma B_im x. D is a dense [H, I] matrix
/// (the paper's is diagonal with input width = output width). Layers step it; <see cref="ParallelForward"/> is the
/// whole-sequence form by two real scans.
/// Parameters, named in the toolkit's PyTorch style (the paper's names in brackets): weight_nu [H] (nu_log),
/// weight_theta [H] (theta_log), weight_gamma [H] (gamma_log), weight_ih [3H, I] (rows B_re, B_im, D), weight_ho [H, 2H]
/// (columns C_re, C_im). State: (h, s_re, s_im), h = y_t the output (an initial h is not read).
/// </summary>
public sealed class LruCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> nuLog, thetaLog, gammaLog, weightIh, weightHo;

    /// <summary>
    /// The ring initialisation (Lemma 3.2 of the paper): |lambda| uniform on the ring r_min &lt;= r &lt;= r_max in area,
    /// phase uniform in [0, max_phase]; gamma = sqrt(1 - |lambda|^2); B_re, B_im ~ N(0, 1/(2I)), C_re, C_im ~ N(0, 1/H),
    /// D ~ N(0, 1/I). The defaults are the reference code's (0, 1, 2 pi); long-range tasks use (0.9, 0.999, pi/10).
    /// </summary>
    public LruCell(int inputSize, int hiddenSize, Rng rng, double rMin = 0, double rMax = 1, double maxPhase = 2 * Math.PI)
        : this(inputSize, hiddenSize, Initial(inputSize, hiddenSize, rng, rMin, rMax, maxPhase)) { }

    private LruCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("lru", inputSize, hiddenSize, ["h", "s_re", "s_im"], parameters)
    {
        (nuLog, thetaLog, gammaLog) = (parameters["weight_nu"], parameters["weight_theta"], parameters["weight_gamma"]);
        (weightIh, weightHo) = (parameters["weight_ih"], parameters["weight_ho"]);
    }

    private static CellParameters<T> Initial(int inputSize, int hiddenSize, Rng rng, double rMin, double rMax, double maxPhase)
    {
        if (!(0 <= rMin && rMin <= rMax && rMax <= 1) || !(maxPhase > 0))
            throw new ArgumentOutOfRangeException(nameof(rMin), $"LruCell: ring r_min = {rMin}, r_max = {rMax}, max_phase = {maxPhase}; expected 0 <= r_min <= r_max <= 1 and max_phase > 0.");
        int h = hiddenSize;
        double[] nu = new double[h], theta = new double[h], gamma = new double[h];
        for (int j = 0; j < h; j++)
        {
            // |lambda|^2 uniform in [r_min^2, r_max^2]; nu = -log |lambda| (kept finite at r = 1 and r = 0).
            double modulus = Math.Sqrt(rng.NextDouble() * (rMax * rMax - rMin * rMin) + rMin * rMin);
            double nuValue = Math.Clamp(-Math.Log(Math.Max(modulus, 1e-300)), 1e-12, 700);
            nu[j] = Math.Log(nuValue);
            theta[j] = Math.Log(Math.Max(maxPhase * rng.NextDouble(), 1e-12));
            double r = Math.Exp(-nuValue);
            gamma[j] = Math.Log(Math.Sqrt(Math.Max(1 - r * r, 1e-12)));
        }
        var b = Tensor.RandomNormal<T>(rng, [2 * h, inputSize], std: 1 / Math.Sqrt(2.0 * inputSize));
        var d = Tensor.RandomNormal<T>(rng, [h, inputSize], std: 1 / Math.Sqrt(inputSize));
        return new CellParameters<T>(
        [
            new("weight_nu", Vector(nu)), new("weight_theta", Vector(theta)), new("weight_gamma", Vector(gamma)),
            new("weight_ih", Tensor.Concat(0, b, d).RequireGrad()),
            new("weight_ho", Tensor.RandomNormal<T>(rng, [h, 2 * h], std: 1 / Math.Sqrt(h)).RequireGrad()),
        ]);
    }

    private static Tensor<T> Vector(double[] values) => Tensor.FromArray(values.Select(T.CreateChecked).ToArray(), values.Length).RequireGrad();

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>B_re x, B_im x and D x at once ([N, 3H]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        var parts = projectedInput.Chunk(3, -1);
        var modulus = (-nuLog.Exp()).Exp();
        var angle = thetaLog.Exp();
        var (re, im) = (modulus * angle.Cos(), modulus * angle.Sin());
        var gamma = gammaLog.Exp();
        var (sRe, sIm) = (state[1], state[2]);
        var nextRe = re * sRe - im * sIm + gamma * parts[0];
        var nextIm = re * sIm + im * sRe + gamma * parts[1];
        // Re(C s) = C_re s_re - C_im s_im: one product with [C_re, C_im] over [s_re, -s_im].
        var y = Tensor.Concat(-1, nextRe, -nextIm).Linear(weightHo) + parts[2];
        return new RecurrentState<T>(StateNames, y, nextRe, nextIm);
    }

    /// <summary>
    /// The outputs y_1..y_T [T, B, H] of a whole sequence x [T, B, I] from the zero state by two real scans instead of T
    /// steps. With lambda = r e^(i theta), the rotated state g_t = s_t e^(-i theta (t + 1)) follows the real-coefficient
    /// recurrence g_t = r g_{t-1} + e^(-i theta (t + 1)) gamma B x_t, one <see cref="Tensor.Scan{T}"/> for its real and one
    /// for its imaginary part; s_t = g_t e^(i theta (t + 1)). Equal to stepping up to rounding, but the angles
    /// theta (t + 1) grow with t: sin and cos of an angle near 2 pi T lose about T ulps of it, so use it in double or
    /// for short sequences in float.
    /// </summary>
    public Tensor<T> ParallelForward(Tensor<T> x)
    {
        if (x.Rank != 3 || x.Shape[2] != InputSize)
            throw new ArgumentException($"LruCell.ParallelForward: input {x.ShapeText}; expected [T, B, {InputSize}].");
        int steps = x.Shape[0], batch = x.Shape[1], h = HiddenSize;
        var parts = ProjectInput(x.Reshape(steps * batch, InputSize)).Reshape(steps, batch, 3 * h).Chunk(3, -1);
        var gamma = gammaLog.Exp();
        var (uRe, uIm) = (gamma * parts[0], gamma * parts[1]);
        var turns = Tensor.FromArray(Enumerable.Range(1, steps).Select(t => T.CreateChecked(t)).ToArray(), steps, 1, 1);
        var angle = turns * thetaLog.Exp();                                                    // theta (t + 1), [T, 1, H]
        var (cos, sin) = (angle.Cos(), angle.Sin());
        var modulus = (-nuLog.Exp()).Exp() * Tensor.Ones<T>(steps, batch, h);
        var zero = Tensor.Zeros<T>(batch, h);
        var gRe = Tensor.Scan(modulus, uRe * cos + uIm * sin, zero);
        var gIm = Tensor.Scan(modulus, uIm * cos - uRe * sin, zero);
        var (sRe, sIm) = (gRe * cos - gIm * sin, gRe * sin + gIm * cos);
        var read = Tensor.Concat(-1, sRe, -sIm).Reshape(steps * batch, 2 * h).Linear(weightHo).Reshape(steps, batch, h);
        return read + parts[2];
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new LruCell<T>(InputSize, HiddenSize, parameters);
}
