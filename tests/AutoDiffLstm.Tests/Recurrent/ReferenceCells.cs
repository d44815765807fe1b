using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Independent scalar-loop implementations of the published cell equations (PyTorch's documentation for RNN, LSTM and
/// GRU; Greff et al. 2017 Section II for the LSTM family; Zhou et al. 2016 for the MGU; Feng et al. 2024 Sections 3.1-3.2
/// for minGRU and minLSTM; Li et al. 2018 Eq. 2 for IndRNN; van der Westhuizen and Lasenby 2018 Eq. 2 with beta = 1 for JANET; Beck et al. 2024 Sections 2.2-2.3, stabilised, for sLSTM and mLSTM; Orvieto et al. 2023 Section 3 in complex arithmetic for the LRU), one batch row at a time, using
/// no tensor operation. They read the cell's parameters by name, so they also pin down the parameter layout.
/// </summary>
public static class ReferenceCells
{
    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>Rows [first, first + count) of W v, W given row-major with <paramref name="columns"/> columns.</summary>
    private static double[] Rows(double[] w, int columns, double[] v, int first, int count)
    {
        var r = new double[count];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < columns; j++) r[i] += w[(first + i) * columns + j] * v[j];
        return r;
    }

    private static double[] Slice(double[] v, int first, int count) => v.Skip(first).Take(count).ToArray();

    private static double[] Add(params double[][] vs)
    {
        var r = new double[vs[0].Length];
        foreach (var v in vs) for (int i = 0; i < r.Length; i++) r[i] += v[i];
        return r;
    }

    private static double[] Map(double[] v, Func<double, double> f) => v.Select(f).ToArray();

    private static double[] Mul(double[] a, double[] b) => a.Select((x, i) => x * b[i]).ToArray();

    /// <summary>The new state of one batch row (state tensors in the cell's order).</summary>
    public static double[][] Step(string kind, RecurrentCell<double> cell, double[] x, double[][] state)
    {
        var p = cell.Parameters.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        int n = cell.InputSize, h = cell.HiddenSize;
        switch (kind)
        {
            case "rnn_tanh" or "rnn_relu" or "irnn":
            {
                var pre = Add(Rows(p["weight_ih"], n, x, 0, h), p["bias_ih"], Rows(p["weight_hh"], h, state[0], 0, h), p["bias_hh"]);
                return [Map(pre, kind == "rnn_tanh" ? Math.Tanh : v => Math.Max(0, v))];
            }
            case "gru":
            {
                double[] Input(int k) => Add(Rows(p["weight_ih"], n, x, k * h, h), Slice(p["bias_ih"], k * h, h));
                double[] Hidden(int k) => Add(Rows(p["weight_hh"], h, state[0], k * h, h), Slice(p["bias_hh"], k * h, h));
                var r = Map(Add(Input(0), Hidden(0)), Sigmoid);
                var z = Map(Add(Input(1), Hidden(1)), Sigmoid);
                var candidate = Map(Add(Input(2), Mul(r, Hidden(2))), Math.Tanh);
                return [candidate.Select((c, i) => (1 - z[i]) * c + z[i] * state[0][i]).ToArray()];
            }
            case "mgu":
            {
                var f = Map(Add(Rows(p["weight_ih"], n, x, 0, h), Slice(p["bias_ih"], 0, h), Rows(p["weight_hf"], h, state[0], 0, h)), Sigmoid);
                var candidate = Map(Add(Rows(p["weight_ih"], n, x, h, h), Slice(p["bias_ih"], h, h), Rows(p["weight_hn"], h, Mul(f, state[0]), 0, h)), Math.Tanh);
                return [candidate.Select((c, i) => (1 - f[i]) * state[0][i] + f[i] * c).ToArray()];
            }
            case "mingru":
            {
                var z = Map(Add(Rows(p["weight_ih"], n, x, 0, h), Slice(p["bias_ih"], 0, h)), Sigmoid);
                var candidate = Add(Rows(p["weight_ih"], n, x, h, h), Slice(p["bias_ih"], h, h));
                return [z.Select((zi, j) => (1 - zi) * state[0][j] + zi * candidate[j]).ToArray()];
            }
            case "minlstm":
            {
                double[] Pre(int k) => Add(Rows(p["weight_ih"], n, x, k * h, h), Slice(p["bias_ih"], k * h, h));
                var (f, i, candidate) = (Map(Pre(0), Sigmoid), Map(Pre(1), Sigmoid), Pre(2));
                return [f.Select((fj, j) => fj / (fj + i[j]) * state[0][j] + i[j] / (fj + i[j]) * candidate[j]).ToArray()];
            }
            case "indrnn":
            {
                var pre = Add(Rows(p["weight_ih"], n, x, 0, h), p["bias_ih"], Mul(p["weight_hh"], state[0]));
                return [Map(pre, v => Math.Max(0, v))];
            }
            case "janet":
            {
                double[] Pre(int k) => Add(Rows(p["weight_ih"], n, x, k * h, h), Slice(p["bias_ih"], k * h, h), Rows(p["weight_hh"], h, state[0], k * h, h));
                var s = Pre(0);
                var candidate = Map(Pre(1), Math.Tanh);
                return [s.Select((sj, j) => Sigmoid(sj) * state[0][j] + (1 - Sigmoid(sj - 1)) * candidate[j]).ToArray()];
            }
            case "slstm":
            {
                double[] Pre(int k) => Add(Rows(p["weight_ih"], n, x, k * h, h), Slice(p["bias_ih"], k * h, h), Rows(p["weight_hh"], h, state[0], k * h, h));
                var (z, ig, fg, og) = (Pre(0), Pre(1), Pre(2), Pre(3));
                double[] hh = new double[h], c = new double[h], nn = new double[h], m = new double[h];
                for (int j = 0; j < h; j++)
                {
                    m[j] = Math.Max(fg[j] + state[3][j], ig[j]);
                    double input = Math.Exp(ig[j] - m[j]), forget = Math.Exp(fg[j] + state[3][j] - m[j]);
                    c[j] = forget * state[1][j] + input * Math.Tanh(z[j]);
                    nn[j] = forget * state[2][j] + input;
                    hh[j] = Sigmoid(og[j]) * c[j] / nn[j];
                }
                return [hh, c, nn, m];
            }
            case "mlstm":
            {
                var pre = Add(Rows(p["weight_ih"], n, x, 0, 4 * h + 2), p["bias_ih"]);
                var (q, k, v) = (Slice(pre, 0, h), Map(Slice(pre, h, h), a => a / Math.Sqrt(h)), Slice(pre, 2 * h, h));
                double ig = pre[3 * h], fg = pre[3 * h + 1];
                var o = Map(Slice(pre, 3 * h + 2, h), Sigmoid);
                double m = Math.Max(fg + state[3][0], ig);
                double input = Math.Exp(ig - m), forget = Math.Exp(fg + state[3][0] - m);
                var memory = new double[h * h];
                for (int a = 0; a < h; a++)
                    for (int b = 0; b < h; b++) memory[a * h + b] = forget * state[1][a * h + b] + input * v[a] * k[b];
                var nn = Enumerable.Range(0, h).Select(j => forget * state[2][j] + input * k[j]).ToArray();
                double scale = Math.Max(Math.Abs(nn.Select((nj, j) => nj * q[j]).Sum()), Math.Exp(-m));
                var hh = Enumerable.Range(0, h).Select(a => o[a] * Enumerable.Range(0, h).Sum(b => memory[a * h + b] * q[b]) / scale).ToArray();
                return [hh, memory, nn, [m]];
            }
            case "lru":
            {
                // In System.Numerics.Complex, as the paper writes it: s' = lambda s + gamma B x, y = Re(C s') + D x.
                var (bRe, bIm, dx) = (Rows(p["weight_ih"], n, x, 0, h), Rows(p["weight_ih"], n, x, h, h), Rows(p["weight_ih"], n, x, 2 * h, h));
                var s = new System.Numerics.Complex[h];
                for (int j = 0; j < h; j++)
                {
                    var lambda = System.Numerics.Complex.Exp(new System.Numerics.Complex(-Math.Exp(p["weight_nu"][j]), Math.Exp(p["weight_theta"][j])));
                    s[j] = lambda * new System.Numerics.Complex(state[1][j], state[2][j]) + Math.Exp(p["weight_gamma"][j]) * new System.Numerics.Complex(bRe[j], bIm[j]);
                }
                var y = new double[h];
                for (int a = 0; a < h; a++)
                {
                    var cs = System.Numerics.Complex.Zero;
                    for (int b = 0; b < h; b++) cs += new System.Numerics.Complex(p["weight_ho"][a * 2 * h + b], p["weight_ho"][a * 2 * h + h + b]) * s[b];
                    y[a] = cs.Real + dx[a];
                }
                return [y, s.Select(c => c.Real).ToArray(), s.Select(c => c.Imaginary).ToArray()];
            }
            case "lstm":
                return Greff(LstmVariant.NoPeepholes, p, n, h, x, state);
            default:
                if (cell is LstmVariantCell<double> variant) return Greff(variant.Variant, p, n, h, x, state);
                throw new InvalidOperationException($"ReferenceCells has no equations for '{kind}': every cell of the registry needs a scalar reference here.");
        }
    }

    /// <summary>Greff et al.'s equations with the variant's switches, gates laid out as the variant documents.</summary>
    private static double[][] Greff(LstmVariant v, Dictionary<string, double[]> p, int n, int h, double[] x, double[][] state)
    {
        var (hPrev, cPrev) = (state[0], state[1]);
        string layout = v.GateLayout, own = v.SigmoidGates;
        double[] Pre(char gate)
        {
            int k = layout.IndexOf(gate);
            var pre = Add(Rows(p["weight_ih"], n, x, k * h, h), Slice(p["bias_ih"], k * h, h), Rows(p["weight_hh"], h, hPrev, k * h, h), Slice(p["bias_hh"], k * h, h));
            if (v.FullGateRecurrence && gate != 'g') pre = Add(pre, Rows(p["weight_gg"], own.Length * h, state[2], own.IndexOf(gate) * h, h));
            return pre;
        }
        double[] Peep(char gate, double[] c) => v.Peepholes ? Mul(p["weight_c" + gate], c) : new double[h];
        double[] ones = Enumerable.Repeat(1.0, h).ToArray();

        var i = v.InputGate ? Map(Add(Pre('i'), Peep('i', cPrev)), Sigmoid) : ones;
        var f = !v.ForgetGate ? ones : v.CoupledInputForget ? Map(i, a => 1 - a) : Map(Add(Pre('f'), Peep('f', cPrev)), Sigmoid);
        var z = v.InputActivation ? Map(Pre('g'), Math.Tanh) : Pre('g');
        var c = Add(Mul(f, cPrev), Mul(i, z));
        var o = v.OutputGate ? Map(Add(Pre('o'), Peep('o', c)), Sigmoid) : ones;
        var y = Mul(o, v.OutputActivation ? Map(c, Math.Tanh) : c);
        if (!v.FullGateRecurrence) return [y, c];
        var gates = own.SelectMany(g => g switch { 'i' => i, 'f' => f, _ => o }).ToArray();
        return [y, c, gates];
    }
}
