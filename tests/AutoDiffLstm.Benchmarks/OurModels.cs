using System.Numerics;

namespace AutoDiffLstm.Benchmarks;

/// <summary>Which recurrence a model runs; the gate count fixes the row blocks of W_ih / W_hh (PyTorch layout).</summary>
public enum CellKind { Lstm, Gru, Rnn }

/// <summary>
/// Single-layer LSTM, GRU and tanh RNN composed inline from AutoDiffLstm primitives, with PyTorch's equations and
/// weight layout (W_ih [G*H, I], W_hh [G*H, H], gate order i,f,g,o for the LSTM and r,z,n for the GRU). The input
/// projection x W_ih^T + b_ih is one Linear over all T*B rows before the time loop, as cuDNN and libtorch do.
/// <para>
/// A stand-in until the engine's own recurrent layers exist: the benchmarks only call <see cref="Forward"/> and
/// <see cref="Parameters"/>, so swapping in the real layer is a change to this file alone.
/// </para>
/// </summary>
internal sealed class OurRecurrentModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public OurRecurrentModel(CellKind kind, int inputSize, int hiddenSize, Rng rng)
    {
        Kind = kind;
        HiddenSize = hiddenSize;
        int rows = Gates(kind) * hiddenSize;
        // PyTorch's default initialisation U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
        double bound = 1.0 / Math.Sqrt(hiddenSize);
        WeightIh = Tensor.RandomUniform<T>(rng, [rows, inputSize], -bound, bound).RequireGrad();
        WeightHh = Tensor.RandomUniform<T>(rng, [rows, hiddenSize], -bound, bound).RequireGrad();
        BiasIh = Tensor.RandomUniform<T>(rng, [rows], -bound, bound).RequireGrad();
        BiasHh = Tensor.RandomUniform<T>(rng, [rows], -bound, bound).RequireGrad();
    }

    public CellKind Kind { get; }
    public int HiddenSize { get; }
    public Tensor<T> WeightIh { get; }
    public Tensor<T> WeightHh { get; }
    public Tensor<T> BiasIh { get; }
    public Tensor<T> BiasHh { get; }
    public Tensor<T>[] Parameters => [WeightIh, WeightHh, BiasIh, BiasHh];

    public static int Gates(CellKind kind) => kind switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

    /// <summary>Runs the sequence x [T, B, I] from h0 [B, H] (and c0 [B, H] for the LSTM); returns every h_t as [T, B, H].</summary>
    public Tensor<T> Forward(Tensor<T> x, Tensor<T> h0, Tensor<T>? c0)
    {
        int steps = x.Dims[0], batch = x.Dims[1];
        var projected = x.Reshape(steps * batch, x.Dims[2]).Linear(WeightIh, BiasIh);   // [T*B, G*H]
        var outputs = new Tensor<T>[steps];
        var (h, c) = (h0, c0);
        for (int t = 0; t < steps; t++)
        {
            var xt = projected.Narrow(0, t * batch, batch);
            var hh = h.Linear(WeightHh, BiasHh);
            switch (Kind)
            {
                case CellKind.Lstm:
                    (h, c) = LstmStep(xt, hh, c ?? throw new ArgumentNullException(nameof(c0), "OurRecurrentModel: the LSTM needs an initial cell state c0 [B, H]."));
                    break;
                case CellKind.Gru:
                    h = GruStep(xt, hh, h);
                    break;
                default:
                    h = (xt + hh).Tanh();
                    break;
            }
            outputs[t] = h;
        }
        return Tensor.Stack(0, outputs);
    }

    // gates = x W_ih^T + b_ih + h W_hh^T + b_hh = [i | f | g | o];  c' = σ(f) c + σ(i) tanh(g);  h' = σ(o) tanh(c').
    private static (Tensor<T> H, Tensor<T> C) LstmStep(Tensor<T> xt, Tensor<T> hh, Tensor<T> c)
    {
        var gates = (xt + hh).Chunk(4, axis: 1);
        var (i, f, g, o) = (gates[0].Sigmoid(), gates[1].Sigmoid(), gates[2].Tanh(), gates[3].Sigmoid());
        var cNext = f * c + i * g;
        return (o * cNext.Tanh(), cNext);
    }

    // r = σ(x_r + h_r);  z = σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n);  h' = (1 − z) ⊙ n + z ⊙ h   (biases inside x_*, h_*).
    private static Tensor<T> GruStep(Tensor<T> xt, Tensor<T> hh, Tensor<T> h)
    {
        var xs = xt.Chunk(3, axis: 1);
        var hs = hh.Chunk(3, axis: 1);
        var r = (xs[0] + hs[0]).Sigmoid();
        var z = (xs[1] + hs[1]).Sigmoid();
        var n = (xs[2] + r * hs[2]).Tanh();
        return (T.One - z) * n + z * h;
    }
}
