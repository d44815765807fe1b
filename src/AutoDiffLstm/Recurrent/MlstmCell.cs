using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// mLSTM, the matrix-memory LSTM of xLSTM (Beck et al. 2024, Section 2.3): a memory matrix C updated by the covariance
/// rule v k^T, read out by a query, with exponential gating stabilised as in <see cref="SlstmCell{T}"/>. One head of
/// size d = H:
/// <code>
/// q = W_q x + b_q,  k = (W_k x + b_k) / sqrt(d),  v = W_v x + b_v,  i~ f~ (scalars),  o = sigmoid(W_o x + b_o)
/// m_t  = max(f~ + m_{t-1}, i~),   i' = exp(i~ - m_t),   f' = exp(f~ + m_{t-1} - m_t)
/// C_t  = f' C_{t-1} + i' v k^T                                 (covariance update, [d, d])
/// n_t  = f' n_{t-1} + i' k
/// h_t  = o * (C_t q) / max(|n_t . q|, exp(-m_t))
/// </code>
/// (the stabilised form of the paper's max(|n^T q|, 1): C and n are kept scaled by exp(-m)). No recurrent weights:
/// the gates read x_t only, which is what gives the paper its parallel (attention-like) form, <see cref="ParallelForward"/>;
/// the layers step it. Parameters: weight_ih [4H + 2, I] and bias_ih [4H + 2], rows q, k, v, i, f, o.
/// State: (h [B, H], C [B, H*H] row-major, n [B, H], m [B, 1]).
/// </summary>
public sealed class MlstmCell<T> : RecurrentCell<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> weightIh, biasIh;

    /// <summary>Weights and biases uniform in [-1/sqrt(H), 1/sqrt(H)].</summary>
    public MlstmCell(int inputSize, int hiddenSize, Rng rng)
        : this(inputSize, hiddenSize, DefaultInit.Parameters<T>(rng, hiddenSize, [("weight_ih", [4 * hiddenSize + 2, inputSize]), ("bias_ih", [4 * hiddenSize + 2])])) { }

    private MlstmCell(int inputSize, int hiddenSize, CellParameters<T> parameters) : base("mlstm", inputSize, hiddenSize, ["h", "C", "n", "m"], parameters)
    {
        (weightIh, biasIh) = (parameters["weight_ih"], parameters["bias_ih"]);
    }

    /// <inheritdoc/>
    public override int StateSize(int index) => index switch { 1 => HiddenSize * HiddenSize, 3 => 1, _ => HiddenSize };

    /// <inheritdoc/>
    public override bool HasInputProjection => true;

    /// <summary>W_ih x + b_ih for q, k, v, i, f and o at once ([N, 4H + 2]).</summary>
    public override Tensor<T> ProjectInput(Tensor<T> x) => x.Linear(weightIh, biasIh);

    /// <inheritdoc/>
    public override RecurrentState<T> Step(Tensor<T> projectedInput, RecurrentState<T> state)
    {
        int d = HiddenSize, batch = projectedInput.Shape[0];
        var (memory, n, m) = (state[1].Reshape(batch, d, d), state[2], state[3]);
        var p = projectedInput.Split(-1, d, d, d, 1, 1, d);
        var (q, k, v) = (p[0], p[1] * T.CreateChecked(1 / Math.Sqrt(d)), p[2]);
        var logForget = p[4] + m;
        var mNext = Tensor.Maximum(logForget, p[3]);
        var input = (p[3] - mNext).Exp();
        var forget = (logForget - mNext).Exp();
        GateMonitor.Observe("forget", forget);
        var output = p[5].Sigmoid();
        GateMonitor.Observe("output", output);
        var memoryNext = forget.Reshape(batch, 1, 1) * memory + input.Reshape(batch, 1, 1) * v.Reshape(batch, d, 1).MatMul(k.Reshape(batch, 1, d));
        var nNext = forget * n + input * k;
        var dot = (nNext * q).Sum(-1, keepDim: true);
        var scale = Tensor.Maximum(Tensor.Maximum(dot, -dot), (-mNext).Exp());
        // The read-out goes through the state tensor itself, so that dL/dC_t of the returned state is the full gradient.
        var memoryState = memoryNext.Reshape(batch, d * d);
        var read = memoryState.Reshape(batch, d, d).MatMul(q.Reshape(batch, d, 1)).Reshape(batch, d);
        return new RecurrentState<T>(StateNames, output * (read / scale), memoryState, nNext, mNext);
    }

    /// <summary>
    /// The outputs h_1..h_T [T, B, H] of a whole sequence x [T, B, I] from the zero state, by the parallel form (Beck et al.
    /// 2024, Appendix B.3, with this cell's exponential forget gate log f_t = f~_t): with F_t = f~_1 + ... + f~_t,
    /// <code>
    /// log D_ts = F_t - F_s + i~_s  (s &lt;= t; -inf above the diagonal),   D'_ts = exp(log D_ts - m'_t),  m'_t = max_s log D_ts
    /// C'     = (q_t . k_s) D'_ts                                    ([T, T] per batch row)
    /// h_t    = o_t * (sum_s C'_ts v_s) / max(|sum_s C'_ts|, exp(-m'_t))
    /// </code>
    /// It equals the stepped recurrence: both compute C_t q / max(|n_t . q|, 1) for the unstabilised C_t and n_t, each
    /// scaled by its own stabiliser, which cancels; so m' is taken as a constant (it changes neither values nor
    /// gradients). O(T^2 H) work and O(T^2) memory per row instead of T steps of O(H^2).
    /// </summary>
    public Tensor<T> ParallelForward(Tensor<T> x)
    {
        if (x.Rank != 3 || x.Shape[2] != InputSize)
            throw new ArgumentException($"MlstmCell.ParallelForward: input {x.ShapeText}; expected [T, B, {InputSize}].");
        int steps = x.Shape[0], batch = x.Shape[1], d = HiddenSize;
        var p = ProjectInput(x.Reshape(steps * batch, InputSize)).Reshape(steps, batch, -1).Transpose(0, 1).Split(-1, d, d, d, 1, 1, d); // [B, T, .]
        var (q, k, v) = (p[0], p[1] * T.CreateChecked(1 / Math.Sqrt(d)), p[2]);
        // F_t as a scan of ones over time, per batch row: [B, T, 1] -> [T, B] -> [B, T].
        var logForget = p[4].Reshape(batch, steps).Transpose(0, 1);
        var cumulative = Tensor.Scan(Tensor.Ones<T>(steps, batch), logForget, Tensor.Zeros<T>(batch)).Transpose(0, 1);
        var logD = cumulative.Reshape(batch, steps, 1) - cumulative.Reshape(batch, 1, steps) + p[3].Reshape(batch, 1, steps) + Causal(steps);
        var stabiliser = RowMax(logD);
        var decay = (logD - stabiliser).Exp();
        var weights = q.MatMul(k, transposeOther: true) * decay;                                   // C' [B, T, T]
        var sum = weights.Sum(-1, keepDim: true);
        var scale = Tensor.Maximum(Tensor.Maximum(sum, -sum), (-stabiliser).Exp());
        return (p[5].Sigmoid() * (weights.MatMul(v) / scale)).Transpose(0, 1);
    }

    /// <summary>0 on and below the diagonal, -inf above ([T, T]): s &gt; t does not reach t.</summary>
    private static Tensor<T> Causal(int steps)
    {
        var mask = new T[steps * steps];
        for (int t = 0; t < steps; t++)
            for (int s = t + 1; s < steps; s++) mask[t * steps + s] = T.NegativeInfinity;
        return Tensor.FromArray(mask, steps, steps);
    }

    /// <summary>max over the last axis as a constant [.., 1] (the stabiliser cancels, so no gradient flows through it).</summary>
    private static Tensor<T> RowMax(Tensor<T> v)
    {
        int n = v.Shape[^1], rows = v.Size / n;
        var data = v.AsSpan();
        var max = new T[rows];
        for (int r = 0; r < rows; r++) max[r] = System.Numerics.Tensors.TensorPrimitives.Max(data.Slice(r * n, n));
        return Tensor.FromArray(max, [.. v.Shape.Take(v.Rank - 1), 1]);
    }

    /// <inheritdoc/>
    protected override RecurrentCell<T> Rebuild(CellParameters<T> parameters) => new MlstmCell<T>(InputSize, HiddenSize, parameters);
}
