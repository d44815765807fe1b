using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training;

namespace AutoDiffLstm.Tests.Training;

/// <summary>
/// A tanh RNN (I = 2, H = 3) with a linear read-out of the last step, as functions of its 25 parameters, scored by MSE
/// against a target that depends on the first input step: small enough for dense Hessians, long-range enough to be a
/// recurrent problem.
/// </summary>
internal sealed class TinyRecurrentProblem
{
    private readonly RecurrentLayer<double> layer;
    private readonly string[] names;

    public TinyRecurrentProblem(int steps = 5, int batch = 8, ulong seed = 3)
    {
        var rng = new Rng(seed);
        layer = new RecurrentLayer<double>([[new ElmanCell<double>(2, 3, rng.Fork())]]);
        names = layer.NamedParameters().Select(p => p.Key).ToArray();
        Inputs = Tensor.RandomNormal<double>(rng, [steps, batch, 2]);
        var first = Inputs.Select(0, 0).ToArray();
        Targets = Tensor.FromArray(Enumerable.Range(0, batch).Select(b => 0.5 * first[2 * b] - 0.25 * first[2 * b + 1]).ToArray(), batch, 1);
        Parameters = [.. layer.NamedParameters().Select(p => p.Value.Detach().RequireGrad()),
            Tensor.RandomUniform<double>(rng, [1, 3], -0.5, 0.5).RequireGrad(), Tensor.Zeros<double>(1).RequireGrad()];
    }

    public Tensor<double> Inputs { get; }

    public Tensor<double> Targets { get; }

    /// <summary>weight_ih, weight_hh, bias_ih, bias_hh, readout weight, readout bias.</summary>
    public Tensor<double>[] Parameters { get; }

    public int ParameterCount => Parameters.Sum(p => p.Size);

    public GaussNewtonLoss<double> Loss => GaussNewtonLoss<double>.MeanSquaredError(Targets);

    public CurvatureOutputs<double> Run(Tensor<double>[] p)
    {
        var hidden = layer.WithParameters(names.Select((n, k) => new KeyValuePair<string, Tensor<double>>(n, p[k]))).Forward(Inputs).Output;
        var z = hidden.Select(0, hidden.Shape[0] - 1).Linear(p[4], p[5]);
        return new CurvatureOutputs<double>(z, hidden);
    }

    public Tensor<double> Output(Tensor<double>[] p) => Run(p).Output;

    public Tensor<double> LossOf(Tensor<double>[] p) => Output(p).MeanSquaredError(Targets);

    public HessianFreeBatch<double> Batch() => new(LossOf, Run, Loss);

    /// <summary>The parameters as slices of one flat vector, for dense Hessians and Jacobians.</summary>
    public Tensor<double>[] Split(Tensor<double> flat)
    {
        var parts = new Tensor<double>[Parameters.Length];
        int at = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = flat.Narrow(0, at, Parameters[i].Size).Reshape([.. Parameters[i].Shape]);
            at += Parameters[i].Size;
        }
        return parts;
    }

    public Tensor<double> Flat() => Tensor.FromArray(Parameters.SelectMany(p => p.ToArray()).ToArray(), ParameterCount);
}
