using System.Numerics;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Experiments.Training;

/// <summary>
/// The fixed held-out batch, cut along the batch dimension into pieces no larger than a training batch, so that
/// evaluation (without the tape) never needs more memory than a training step: at T = 100,000 a single evaluation
/// batch of 256 sequences would otherwise build a [T·256, 4H] gate projection that alone exceeds the step's memory.
/// The losses of the pieces are combined weighted by their sequence counts, which is the mean over the whole batch
/// (every loss here is a mean over rows whose number is proportional to the sequences: B or T·B).
/// </summary>
internal sealed class EvaluationBatches<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SequenceBatch<T>[] pieces;

    public EvaluationBatches(SequenceBatch<T> batch, LossPlacement placement, int maxPiece)
    {
        if (maxPiece <= 0) throw new ArgumentOutOfRangeException(nameof(maxPiece), $"EvaluationBatches: piece size must be positive, got {maxPiece}.");
        int total = batch.BatchSize;
        pieces = new SequenceBatch<T>[(total + maxPiece - 1) / maxPiece];
        for (int p = 0; p < pieces.Length; p++)
        {
            int start = p * maxPiece, size = Math.Min(maxPiece, total - start);
            pieces[p] = pieces.Length == 1 ? batch : Piece(batch, placement, start, size);
        }
    }

    /// <summary>Sequences in the whole batch.</summary>
    public int Sequences => pieces.Sum(p => p.BatchSize);

    /// <summary>Mean loss and accuracy (classification) over the whole batch, one piece at a time.</summary>
    public (double Loss, double? Accuracy) Evaluate(SequenceModel<T> model, ISequenceTask<T> task)
    {
        if (pieces.Length == 1) return model.Evaluate(task, pieces[0]);
        double loss = 0, accuracy = 0;
        bool hasAccuracy = false;
        foreach (var piece in pieces)
        {
            var (l, a) = model.Evaluate(task, piece);
            loss += l * piece.BatchSize;
            if (a is double acc) { accuracy += acc * piece.BatchSize; hasAccuracy = true; }
        }
        int n = Sequences;
        return (loss / n, hasAccuracy ? accuracy / n : null);
    }

    private static SequenceBatch<T> Piece(SequenceBatch<T> batch, LossPlacement placement, int start, int size)
    {
        using var _ = Autograd.NoGrad();
        var inputs = batch.Inputs.Narrow(1, start, size).Detach();
        var ids = batch.InputIds is null ? null : StepMajor(batch.InputIds, batch.Steps, batch.BatchSize, start, size);
        var regression = batch.RegressionTargets?.Narrow(0, start, size).Detach();
        int[]? classes = batch.ClassTargets is null ? null
            : placement == LossPlacement.LastStep ? batch.ClassTargets[start..(start + size)]
            : StepMajor(batch.ClassTargets, batch.Steps, batch.BatchSize, start, size);
        return new SequenceBatch<T>(inputs, ids, regression, classes);
    }

    /// <summary>Sequences [start, start + size) of a step-major array (entry t·B + b).</summary>
    private static int[] StepMajor(int[] values, int steps, int batch, int start, int size)
    {
        var piece = new int[steps * size];
        for (int t = 0; t < steps; t++) Array.Copy(values, t * batch + start, piece, t * size, size);
        return piece;
    }
}
