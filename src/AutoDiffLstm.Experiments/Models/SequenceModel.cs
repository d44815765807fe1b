using System.Numerics;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Experiments.Models;

/// <summary>
/// A recurrent layer followed by a linear read-out, scored on a task: the read-out sees the last step's output when
/// the task scores only the last step, and every step's output otherwise.
/// </summary>
public sealed class SequenceModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Builds a model of <paramref name="layer"/> and a read-out to <paramref name="outputSize"/> outputs; the read-out is initialised as nn.Linear (uniform +-1/sqrt(fan_in)).</summary>
    public SequenceModel(RecurrentLayer<T> layer, int outputSize, Rng rng)
    {
        Layer = layer;
        double bound = 1 / Math.Sqrt(layer.OutputSize);
        ReadoutWeight = Tensor.RandomUniform<T>(rng, [outputSize, layer.OutputSize], -bound, bound).RequireGrad();
        ReadoutBias = Tensor.RandomUniform<T>(rng, [outputSize], -bound, bound).RequireGrad();
    }

    private SequenceModel(RecurrentLayer<T> layer, Tensor<T> weight, Tensor<T> bias) => (Layer, ReadoutWeight, ReadoutBias) = (layer, weight, bias);

    /// <summary>The recurrent part.</summary>
    public RecurrentLayer<T> Layer { get; }

    /// <summary>Read-out weights [O, H].</summary>
    public Tensor<T> ReadoutWeight { get; }

    /// <summary>Read-out bias [O].</summary>
    public Tensor<T> ReadoutBias { get; }

    /// <summary>Every parameter with its saved name: the layer's PyTorch names, then readout.weight and readout.bias.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor<T>>> NamedParameters() =>
        [.. Layer.NamedParameters(), new("readout.weight", ReadoutWeight), new("readout.bias", ReadoutBias)];

    /// <summary>The parameter tensors, in <see cref="NamedParameters"/> order (for optimizers).</summary>
    public IReadOnlyList<Tensor<T>> Parameters() => NamedParameters().Select(p => p.Value).ToArray();

    /// <summary>
    /// Gradient checkpointing of the recurrent layer during training: 0 keeps every step (default), k &gt; 0 keeps the
    /// state every k steps and recomputes the rest in backward, <see cref="GradientCheckpoint.SqrtSteps"/> uses k = ceil(sqrt(T)).
    /// </summary>
    public int CheckpointEvery { get; set; }

    /// <summary>Predictions: [B, O] for a last-step task, [T*B, O] (step-major) for an every-step task.</summary>
    public Tensor<T> Predict(Tensor<T> inputs, LossPlacement placement) => PredictWithStates(inputs, placement).Prediction;

    /// <summary>The predictions and the recurrent layer's outputs [T, B, H] they were read from (the hidden states that structural damping watches).</summary>
    public (Tensor<T> Prediction, Tensor<T> Hidden) PredictWithStates(Tensor<T> inputs, LossPlacement placement)
    {
        var options = CheckpointEvery == 0 || !Autograd.IsGradEnabled ? null : new SequenceOptions<T> { CheckpointEvery = CheckpointEvery };
        var output = Layer.Forward(inputs, options).Output; // [T, B, H]
        var prediction = placement == LossPlacement.LastStep
            ? output.Select(0, output.Shape[0] - 1).Linear(ReadoutWeight, ReadoutBias)
            : output.Reshape(-1, output.Shape[2]).Linear(ReadoutWeight, ReadoutBias);
        return (prediction, output);
    }

    /// <summary>
    /// The same model over other tensors, given in <see cref="Parameters"/> order: for second-order methods and
    /// curvature diagnostics, which evaluate the model as a function of its parameters.
    /// </summary>
    public SequenceModel<T> WithParameters(IReadOnlyList<Tensor<T>> parameters)
    {
        var named = NamedParameters();
        if (parameters.Count != named.Count)
            throw new ArgumentException($"SequenceModel.WithParameters: {parameters.Count} tensors were given; the model has {named.Count} ({string.Join(", ", named.Select(p => p.Key))}).");
        int layerCount = named.Count - 2;
        var layer = Layer.WithParameters(named.Take(layerCount).Select((p, k) => new KeyValuePair<string, Tensor<T>>(p.Key, parameters[k])));
        return new SequenceModel<T>(layer, parameters[layerCount], parameters[layerCount + 1]) { CheckpointEvery = CheckpointEvery };
    }

    /// <summary>The loss the task scores a prediction with, with its curvature in the prediction (for Gauss-Newton products).</summary>
    public static GaussNewtonLoss<T> CurvatureLoss(ISequenceTask<T> task, SequenceBatch<T> batch) => task.Loss == TaskLoss.MeanSquaredError
        ? GaussNewtonLoss<T>.MeanSquaredError(batch.RegressionTargets!)
        : GaussNewtonLoss<T>.SoftmaxCrossEntropy(batch.ClassTargets!);

    /// <summary>The task's loss on a batch (MSE or mean cross-entropy), recorded on the tape.</summary>
    public Tensor<T> Loss(ISequenceTask<T> task, SequenceBatch<T> batch)
    {
        return CurvatureLoss(task, batch).Loss(Predict(batch.Inputs, task.LossPlacement));
    }

    /// <summary>Loss and, for classification, accuracy on a batch, without recording.</summary>
    public (double Loss, double? Accuracy) Evaluate(ISequenceTask<T> task, SequenceBatch<T> batch)
    {
        using var _ = Autograd.NoGrad();
        var prediction = Predict(batch.Inputs, task.LossPlacement);
        if (task.Loss == TaskLoss.MeanSquaredError) return (prediction.MeanSquaredError(batch.RegressionTargets!).ItemAsDouble(), null);
        var targets = batch.ClassTargets!;
        double loss = prediction.CrossEntropy(targets).ItemAsDouble();
        int classes = prediction.Shape[^1], correct = 0;
        var p = prediction.AsSpan();
        for (int r = 0; r < targets.Length; r++)
        {
            var row = p.Slice(r * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
            if (best == targets[r]) correct++;
        }
        return (loss, (double)correct / targets.Length);
    }
}
