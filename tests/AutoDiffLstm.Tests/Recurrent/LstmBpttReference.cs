namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// The inputs of one reference LSTM problem, as flat row-major double arrays in PyTorch's layout and gate order
/// (i, f, g, o stacked along the first weight axis): W_ih [4H, I], W_hh [4H, H], b_ih [4H], b_hh [4H], x [T, B, I],
/// h0 and c0 [B, H]. The loss is the linear functional L = sum_t &lt;V_t, h_t&gt; + &lt;U_h, h_T&gt; + &lt;U_c, c_T&gt;
/// with V [T, B, H] and U_h, U_c [B, H], so that every output and the final state receive a gradient.
/// </summary>
internal sealed record LstmBpttProblem(
    int Steps, int Batch, int Input, int Hidden,
    double[] WeightIh, double[] WeightHh, double[] BiasIh, double[] BiasHh,
    double[] X, double[] H0, double[] C0,
    double[] V, double[] Uh, double[] Uc);

/// <summary>Forward values of the reference: every h_t and c_t ([T, B, H]), the final state and the loss.</summary>
internal sealed record LstmBpttForward(double[] Outputs, double[] Cells, double[] HT, double[] CT, double Loss);

/// <summary>
/// dL/d(everything) from the hand-written backward pass, plus the total dL/dh_t and dL/dc_t at every step ([T, B, H])
/// for looking at how the gradient flows back in time.
/// </summary>
internal sealed record LstmBpttGradients(
    double[] WeightIh, double[] WeightHh, double[] BiasIh, double[] BiasHh,
    double[] X, double[] H0, double[] C0,
    double[] HiddenPerStep, double[] CellPerStep);

/// <summary>
/// A deliberately plain LSTM: double arrays and loops, no tensors, no tape, so that it shares nothing with the engine
/// it checks. The forward pass is the classic LSTM without peepholes in PyTorch's formulation; the backward pass is
/// the textbook backpropagation through time, written out equation by equation following Graves (2012), "Supervised
/// Sequence Labelling with Recurrent Neural Networks", Sec. 4.6, and Greff et al. (2017), "LSTM: A Search Space
/// Odyssey", IEEE TNNLS 28(10), Sec. II-B (their equations with the peephole terms set to zero; their z is our g,
/// their y is our h).
/// </summary>
internal static class LstmBpttReference
{
    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>Everything the backward pass needs from the forward pass, per step t and batch row b.</summary>
    private sealed class Trace(int steps, int batch, int hidden)
    {
        // Gate activations [T, B, 4H] in the order i, f, g, o; cell states and hidden states [T, B, H].
        public readonly double[] Gates = new double[steps * batch * 4 * hidden];
        public readonly double[] Cells = new double[steps * batch * hidden];
        public readonly double[] TanhCells = new double[steps * batch * hidden];
        public readonly double[] Hiddens = new double[steps * batch * hidden];
    }

    /// <summary>The forward pass: h_t, c_t for every step, the final state and the loss.</summary>
    public static LstmBpttForward Forward(LstmBpttProblem p)
    {
        var trace = Run(p);
        int bh = p.Batch * p.Hidden, last = (p.Steps - 1) * bh;
        var hT = p.Steps == 0 ? (double[])p.H0.Clone() : trace.Hiddens.AsSpan(last, bh).ToArray();
        var cT = p.Steps == 0 ? (double[])p.C0.Clone() : trace.Cells.AsSpan(last, bh).ToArray();
        double loss = Dot(p.V, trace.Hiddens) + Dot(p.Uh, hT) + Dot(p.Uc, cT);
        return new LstmBpttForward(trace.Hiddens, trace.Cells, hT, cT, loss);
    }

    private static Trace Run(LstmBpttProblem p)
    {
        int T = p.Steps, B = p.Batch, I = p.Input, H = p.Hidden, G = 4 * H;
        var tr = new Trace(T, B, H);
        var pre = new double[G];
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
            {
                // h_{t-1}, c_{t-1}: the initial state at t = 0.
                double[] hPrev = t == 0 ? p.H0 : tr.Hiddens;
                double[] cPrev = t == 0 ? p.C0 : tr.Cells;
                int prevOff = t == 0 ? b * H : ((t - 1) * B + b) * H;
                int xOff = (t * B + b) * I, gOff = (t * B + b) * G, sOff = (t * B + b) * H;

                // pre = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh (all four gates at once, rows i | f | g | o).
                for (int j = 0; j < G; j++)
                {
                    double s = p.BiasIh[j] + p.BiasHh[j];
                    for (int k = 0; k < I; k++) s += p.WeightIh[j * I + k] * p.X[xOff + k];
                    for (int k = 0; k < H; k++) s += p.WeightHh[j * H + k] * hPrev[prevOff + k];
                    pre[j] = s;
                }
                for (int u = 0; u < H; u++)
                {
                    double i = Sigmoid(pre[u]), f = Sigmoid(pre[H + u]), g = Math.Tanh(pre[2 * H + u]), o = Sigmoid(pre[3 * H + u]);
                    tr.Gates[gOff + u] = i;
                    tr.Gates[gOff + H + u] = f;
                    tr.Gates[gOff + 2 * H + u] = g;
                    tr.Gates[gOff + 3 * H + u] = o;
                    double c = f * cPrev[prevOff + u] + i * g; // c_t = f_t * c_{t-1} + i_t * g_t
                    double tc = Math.Tanh(c);
                    tr.Cells[sOff + u] = c;
                    tr.TanhCells[sOff + u] = tc;
                    tr.Hiddens[sOff + u] = o * tc;              // h_t = o_t * tanh(c_t)
                }
            }
        return tr;
    }

    /// <summary>Backpropagation through time by hand: dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh, dL/dx, dL/dh0, dL/dc0.</summary>
    public static LstmBpttGradients Backward(LstmBpttProblem p)
    {
        int T = p.Steps, B = p.Batch, I = p.Input, H = p.Hidden, G = 4 * H;
        var tr = Run(p);
        var dWih = new double[G * I];
        var dWhh = new double[G * H];
        var dbIh = new double[G];
        var dbHh = new double[G];
        var dx = new double[T * B * I];
        var dhSteps = new double[T * B * H];
        var dcSteps = new double[T * B * H];

        // Gradient arriving at h_t and c_t from step t+1 (recurrent paths). At t = T-1 the "next step" is the loss
        // term on the final state: dL/dh_T gets U_h, dL/dc_T gets U_c.
        var dhNext = (double[])p.Uh.Clone();
        var dcNext = (double[])p.Uc.Clone();
        var dPre = new double[G];

        for (int t = T - 1; t >= 0; t--)
            for (int b = 0; b < B; b++)
            {
                double[] hPrev = t == 0 ? p.H0 : tr.Hiddens;
                double[] cPrev = t == 0 ? p.C0 : tr.Cells;
                int prevOff = t == 0 ? b * H : ((t - 1) * B + b) * H;
                int xOff = (t * B + b) * I, gOff = (t * B + b) * G, sOff = (t * B + b) * H, bOff = b * H;

                for (int u = 0; u < H; u++)
                {
                    double i = tr.Gates[gOff + u], f = tr.Gates[gOff + H + u], g = tr.Gates[gOff + 2 * H + u], o = tr.Gates[gOff + 3 * H + u];
                    double tc = tr.TanhCells[sOff + u];

                    // dL/dh_t = V_t + W_hh^T dpre_{t+1} (the output term plus everything step t+1 sent back).
                    double dh = p.V[sOff + u] + dhNext[bOff + u];
                    // dL/dc_t = dL/dh_t * o_t * (1 - tanh^2(c_t)) + dL/dc_{t+1} * f_{t+1}  (via h_t = o_t tanh(c_t), and via c_{t+1} = f_{t+1} c_t + ...)
                    double dc = dh * o * (1 - tc * tc) + dcNext[bOff + u];
                    dhSteps[sOff + u] = dh;
                    dcSteps[sOff + u] = dc;

                    double dO = dh * tc;                   // dL/do_t = dL/dh_t * tanh(c_t)
                    double dI = dc * g;                    // dL/di_t = dL/dc_t * g_t
                    double dG = dc * i;                    // dL/dg_t = dL/dc_t * i_t
                    double dF = dc * cPrev[prevOff + u];   // dL/df_t = dL/dc_t * c_{t-1}

                    dPre[u] = dI * i * (1 - i);            // dL/dpre_i = dL/di_t * sigmoid'(pre_i),  sigmoid' = s (1 - s)
                    dPre[H + u] = dF * f * (1 - f);        // dL/dpre_f = dL/df_t * sigmoid'(pre_f)
                    dPre[2 * H + u] = dG * (1 - g * g);    // dL/dpre_g = dL/dg_t * tanh'(pre_g),  tanh' = 1 - tanh^2
                    dPre[3 * H + u] = dO * o * (1 - o);    // dL/dpre_o = dL/do_t * sigmoid'(pre_o)

                    // dL/dc_{t-1} = dL/dc_t * f_t  (without peepholes c_{t-1} feeds no gate: its only path to the loss is c_t)
                    dcNext[bOff + u] = dc * f;
                }

                for (int j = 0; j < G; j++)
                {
                    double d = dPre[j];
                    dbIh[j] += d;                                                       // dL/db_ih += dpre_t  (pre is linear in b_ih with coefficient 1)
                    dbHh[j] += d;                                                       // dL/db_hh += dpre_t
                    for (int k = 0; k < I; k++) dWih[j * I + k] += d * p.X[xOff + k];   // dL/dW_ih += dpre_t x_t^T
                    for (int k = 0; k < H; k++) dWhh[j * H + k] += d * hPrev[prevOff + k]; // dL/dW_hh += dpre_t h_{t-1}^T
                }
                for (int k = 0; k < I; k++)
                {
                    double s = 0;
                    for (int j = 0; j < G; j++) s += p.WeightIh[j * I + k] * dPre[j];
                    dx[xOff + k] = s;                                                   // dL/dx_t = W_ih^T dpre_t
                }
                for (int k = 0; k < H; k++)
                {
                    double s = 0;
                    for (int j = 0; j < G; j++) s += p.WeightHh[j * H + k] * dPre[j];
                    dhNext[bOff + k] = s;                                               // dL/dh_{t-1} (recurrent part) = W_hh^T dpre_t
                }
            }

        // After the loop, the "next" gradients are those of the initial state: dL/dh0 = W_hh^T dpre_0, dL/dc0 = dL/dc_0 * f_0.
        // With T = 0 they are U_h and U_c, since then h_T = h0 and c_T = c0.
        return new LstmBpttGradients(dWih, dWhh, dbIh, dbHh, dx, dhNext, dcNext, dhSteps, dcSteps);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
