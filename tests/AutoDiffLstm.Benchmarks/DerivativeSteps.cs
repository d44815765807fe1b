using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// The derivatives of one scalar loss, L(W_ih, W_hh, b_ih, b_hh) = sum of every h_t of our LSTM on fixed random data of a
/// workload's shape, as functions of the four parameters: the units (L alone, its gradient) and the products measured
/// against them (a JVP along a random parameter tangent, an HVP along a random parameter direction). Each returns a
/// number that depends on the whole result, so that no work can be optimised away.
/// </summary>
internal interface IDerivativeWork
{
    /// <summary>L evaluated without recording (inference).</summary>
    double Forward();

    /// <summary>L recorded on the tape, as the first half of a training step, then the tape dropped.</summary>
    double ForwardRecorded();

    /// <summary>dL/dparameters: one recorded forward and one backward (<see cref="Autograd.Vjp{T}"/>, the engine's fast backward).</summary>
    double Gradient();

    /// <summary><see cref="Autograd.Jvp{T}(Func{Tensor{T}[], Tensor{T}}, Tensor{T}[], Tensor{T}[])"/> along the tangent.</summary>
    double Jvp(bool compile);

    /// <summary><see cref="Autograd.Hvp{T}"/> along the direction.</summary>
    double Hvp(HvpMode mode, bool compile);
}

/// <inheritdoc cref="IDerivativeWork"/>
internal sealed class OurDerivativeWork<T> : IDerivativeWork where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly OurRecurrentModel<T> model;
    private readonly Tensor<T> x, h0, c0, seed;
    private readonly Tensor<T>[] direction;

    public OurDerivativeWork(WorkloadShape shape, int seed = 1)
    {
        var rng = new Rng((ulong)seed);
        model = new OurRecurrentModel<T>(CellKind.Lstm, shape.Input, shape.Hidden, rng);
        x = Tensor.RandomNormal<T>(rng, [shape.Steps, shape.Batch, shape.Input]);
        h0 = Tensor.RandomNormal<T>(rng, [shape.Batch, shape.Hidden], std: 0.1);
        c0 = Tensor.RandomNormal<T>(rng, [shape.Batch, shape.Hidden], std: 0.1);
        direction = model.Parameters.Select(p => Tensor.RandomNormal<T>(rng, [.. p.Shape])).ToArray();
        using (Autograd.NoGrad()) this.seed = Tensor.Ones<T>([.. Loss(model.Parameters).Shape]);
    }

    private Tensor<T> Loss(Tensor<T>[] parameters, bool compile = true) => model.Loss(parameters, x, h0, c0, compile);

    public double Forward()
    {
        using var _ = Autograd.NoGrad();
        return Loss(model.Parameters).ItemAsDouble();
    }

    public double ForwardRecorded()
    {
        double value = Loss(model.Parameters).ItemAsDouble();
        Tape.Current.Reset();
        return value;
    }

    public double Gradient() => Checksum(Autograd.Vjp(p => Loss(p), model.Parameters, seed).Cotangents);

    public double Jvp(bool compile) => Autograd.Jvp(p => Loss(p, compile), model.Parameters, direction).Tangent.ItemAsDouble();

    public double Hvp(HvpMode mode, bool compile) => Checksum(Autograd.Hvp(p => Loss(p, compile), model.Parameters, direction, mode));

    private static double Checksum(Tensor<T>[] results) => results.Sum(r => double.CreateChecked(r.AsSpan()[0]) + double.CreateChecked(r.AsSpan()[^1]));
}

internal static class OurDerivativeWork
{
    /// <summary>The LSTM loss of <paramref name="workload"/> in its element type.</summary>
    public static IDerivativeWork Create(Workload workload)
    {
        var shape = WorkloadShape.Of(workload);
        return shape.IsDouble ? new OurDerivativeWork<double>(shape) : new OurDerivativeWork<float>(shape);
    }
}

/// <summary>
/// The same loss on the composed TorchSharp LSTM (<see cref="TorchComposedModel"/>): its gradient by
/// <c>torch.autograd.grad</c>, and its HVP by PyTorch's double backward (the gradient with <c>create_graph</c>, then the
/// gradient of &lt;g, v&gt;), the reverse-over-reverse recipe. libtorch's fused nn.LSTM has no double backward, so
/// only the composed model applies.
/// </summary>
internal sealed class TorchDerivativeWork : IDisposable
{
    private readonly TorchComposedModel model;
    private readonly TorchInputs inputs;
    private readonly TorchTensor[] direction;

    public TorchDerivativeWork(Workload workload, int seed = 1)
    {
        var shape = WorkloadShape.Of(workload);
        torch.manual_seed(seed);
        var dtype = TorchInputs.DType(shape);
        model = TorchComposedModel.Random(CellKind.Lstm, shape.Input, shape.Hidden, dtype);
        inputs = new TorchInputs(shape, withCell: true, dtype);
        foreach (var leaf in inputs.Leaves) leaf.requires_grad = false;   // constants: only the parameters are differentiated
        direction = model.Parameters.Select(p => torch.randn(p.shape, dtype)).ToArray();
    }

    private TorchTensor Loss() => model.Forward(inputs.X, inputs.H0, inputs.C0).sum();

    /// <summary>dL/dparameters: one forward and one backward.</summary>
    public double Gradient()
    {
        using var scope = torch.NewDisposeScope();
        return Checksum(torch.autograd.grad([Loss()], model.Parameters));
    }

    /// <summary>H v = d&lt;dL/dparameters, v&gt;/dparameters, the first backward recorded (create_graph).</summary>
    public double DoubleBackward()
    {
        using var scope = torch.NewDisposeScope();
        // TorchSharp's retain_graph defaults to false even with create_graph (PyTorch's follows create_graph); the
        // second grad walks the first graph's saved tensors again, so it must be kept.
        var g = torch.autograd.grad([Loss()], model.Parameters, retain_graph: true, create_graph: true);
        var inner = g.Select((gi, i) => (gi * direction[i]).sum()).Aggregate((a, b) => a + b);
        return Checksum(torch.autograd.grad([inner], model.Parameters));
    }

    private static double Checksum(IList<TorchTensor> results) => results.Sum(r => r.sum().ToDouble());

    public void Dispose()
    {
        model.Dispose();
        inputs.Dispose();
        foreach (var d in direction) d.Dispose();
    }
}
