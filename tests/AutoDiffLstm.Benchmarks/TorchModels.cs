using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// The peer of <see cref="OurRecurrentModel{T}"/> composed from libtorch primitives through TorchSharp: the same
/// equations, the same weight layout and the same pre-computed input projection, one dispatched libtorch call per
/// primitive. It isolates the cost of the engines' primitives from libtorch's fused nn.LSTM.
/// </summary>
internal sealed class TorchComposedModel : IDisposable
{
    public TorchComposedModel(CellKind kind, TorchTensor weightIh, TorchTensor weightHh, TorchTensor biasIh, TorchTensor biasHh)
    {
        Kind = kind;
        Parameters = [weightIh, weightHh, biasIh, biasHh];
        foreach (var p in Parameters) p.requires_grad = true;
    }

    public CellKind Kind { get; }

    /// <summary>W_ih, W_hh, b_ih, b_hh (PyTorch layout).</summary>
    public TorchTensor[] Parameters { get; }

    /// <summary>PyTorch's default initialisation U(-1/sqrt(H), 1/sqrt(H)).</summary>
    public static TorchComposedModel Random(CellKind kind, int inputSize, int hiddenSize, ScalarType dtype)
    {
        int rows = OurRecurrentModel<float>.Gates(kind) * hiddenSize;
        double bound = 1.0 / Math.Sqrt(hiddenSize);
        TorchTensor Uniform(params long[] dims) => torch.empty(dims, dtype).uniform_(-bound, bound);
        return new(kind, Uniform(rows, inputSize), Uniform(rows, hiddenSize), Uniform(rows), Uniform(rows));
    }

    /// <summary>x [T, B, I], h0 [B, H], c0 [B, H] (LSTM only) -> every h_t as [T, B, H].</summary>
    public TorchTensor Forward(TorchTensor x, TorchTensor h0, TorchTensor? c0)
    {
        long steps = x.shape[0], batch = x.shape[1];
        var (wih, whh, bih, bhh) = (Parameters[0], Parameters[1], Parameters[2], Parameters[3]);
        var projected = nn.functional.linear(x.reshape(steps * batch, x.shape[2]), wih, bih);
        var outputs = new TorchTensor[steps];
        var (h, c) = (h0, c0);
        for (long t = 0; t < steps; t++)
        {
            var xt = projected.narrow(0, t * batch, batch);
            var hh = nn.functional.linear(h, whh, bhh);
            switch (Kind)
            {
                case CellKind.Lstm:
                {
                    var g = (xt + hh).chunk(4, 1);
                    var cNext = g[1].sigmoid() * c! + g[0].sigmoid() * g[2].tanh();
                    h = g[3].sigmoid() * cNext.tanh();
                    c = cNext;
                    break;
                }
                case CellKind.Gru:
                {
                    var xs = xt.chunk(3, 1);
                    var hs = hh.chunk(3, 1);
                    var r = (xs[0] + hs[0]).sigmoid();
                    var z = (xs[1] + hs[1]).sigmoid();
                    var n = (xs[2] + r * hs[2]).tanh();
                    h = (1 - z) * n + z * h;
                    break;
                }
                default:
                    h = (xt + hh).tanh();
                    break;
            }
            outputs[t] = h;
        }
        return torch.stack(outputs, 0);
    }

    public void Dispose()
    {
        foreach (var p in Parameters) p.Dispose();
    }
}

/// <summary>Random input, initial state and their gradients for one workload, shared by the TorchSharp steps.</summary>
internal sealed class TorchInputs : IDisposable
{
    public TorchInputs(WorkloadShape shape, bool withCell, ScalarType dtype)
    {
        X = torch.randn([shape.Steps, shape.Batch, shape.Input], dtype, requires_grad: true);
        H0 = (torch.randn([shape.Batch, shape.Hidden], dtype) * 0.1).detach().requires_grad_(true);
        C0 = withCell ? (torch.randn([shape.Batch, shape.Hidden], dtype) * 0.1).detach().requires_grad_(true) : null;
    }

    public TorchTensor X { get; }
    public TorchTensor H0 { get; }
    public TorchTensor? C0 { get; }
    public IEnumerable<TorchTensor> Leaves => C0 is null ? [X, H0] : [X, H0, C0];

    public void Dispose()
    {
        foreach (var t in Leaves) t.Dispose();
    }

    public static ScalarType DType(WorkloadShape shape) => shape.IsDouble ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>Zeroes leaf gradients in place (TorchSharp cannot set .grad to null); inside the caller's dispose scope.</summary>
    public static void ZeroGrads(IEnumerable<TorchTensor> leaves)
    {
        foreach (var leaf in leaves) leaf.grad?.zero_();
    }
}

/// <summary>Training iteration of the composed TorchSharp model.</summary>
internal sealed class TorchComposedStep : ITrainingStep
{
    private readonly TorchComposedModel model;
    private readonly TorchInputs inputs;

    public TorchComposedStep(CellKind kind, Workload workload, int seed = 1)
    {
        var shape = WorkloadShape.Of(workload);
        torch.manual_seed(seed);
        model = TorchComposedModel.Random(kind, shape.Input, shape.Hidden, TorchInputs.DType(shape));
        inputs = new TorchInputs(shape, kind == CellKind.Lstm, TorchInputs.DType(shape));
    }

    public double Run()
    {
        using var scope = torch.NewDisposeScope();   // frees every intermediate of this iteration
        TorchInputs.ZeroGrads(model.Parameters.Concat(inputs.Leaves));
        var loss = model.Forward(inputs.X, inputs.H0, inputs.C0).sum();
        loss.backward();
        return loss.ToDouble();
    }

    public void Dispose()
    {
        model.Dispose();
        inputs.Dispose();
    }
}

/// <summary>Training iteration of libtorch's own nn.LSTM (one aten::lstm call for the whole sequence): the anchor.</summary>
internal sealed class TorchFusedLstmStep : ITrainingStep
{
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly TorchInputs inputs;

    public TorchFusedLstmStep(Workload workload, int seed = 1)
    {
        var shape = WorkloadShape.Of(workload);
        torch.manual_seed(seed);
        lstm = nn.LSTM(shape.Input, shape.Hidden, dtype: TorchInputs.DType(shape));
        inputs = new TorchInputs(shape, withCell: true, TorchInputs.DType(shape));
    }

    public double Run()
    {
        using var scope = torch.NewDisposeScope();
        lstm.zero_grad();
        TorchInputs.ZeroGrads(inputs.Leaves);
        var (output, _, _) = lstm.call(inputs.X, (inputs.H0.unsqueeze(0), inputs.C0!.unsqueeze(0)));   // state as [layers, B, H]
        var loss = output.sum();
        loss.backward();
        return loss.ToDouble();
    }

    public void Dispose()
    {
        lstm.Dispose();
        inputs.Dispose();
    }
}
