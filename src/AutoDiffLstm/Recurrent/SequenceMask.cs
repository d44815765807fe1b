using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>Masks of live time steps for batches of sequences of different lengths.</summary>
public static class SequenceMask
{
    /// <summary>
    /// The [T, B] mask with 1 where t &lt; lengths[b] and 0 after: sequence b occupies steps 0 .. lengths[b]-1 and the
    /// rest is padding. Lengths must lie in [0, T].
    /// </summary>
    public static Tensor<T> FromLengths<T>(int[] lengths, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), $"SequenceMask.FromLengths: the number of steps must be positive, got {steps}.");
        int batch = lengths.Length;
        var mask = Tensor.Zeros<T>(steps, batch);
        var data = mask.AsWritableSpan();
        for (int b = 0; b < batch; b++)
        {
            if (lengths[b] < 0 || lengths[b] > steps)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"SequenceMask.FromLengths: lengths[{b}] = {lengths[b]} is outside [0, {steps}] (T = {steps}).");
            for (int t = 0; t < lengths[b]; t++) data[t * batch + b] = T.One;
        }
        return mask;
    }

    /// <summary>Per step, the [B, 1] mask, or null where every sequence is live (no masking needed there).</summary>
    internal static Tensor<T>?[] PerStep<T>(string op, Tensor<T> mask, int steps, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (mask.Rank != 2 || mask.Shape[0] != steps || mask.Shape[1] != batch)
            throw new ArgumentException($"{op}: the mask has shape {mask.ShapeText}; expected [T, B] = [{steps}, {batch}].");
        var values = mask.AsSpan();
        var perStep = new Tensor<T>?[steps];
        for (int t = 0; t < steps; t++)
        {
            var row = values.Slice(t * batch, batch);
            bool allLive = true;
            foreach (var v in row) allLive &= v != T.Zero;
            if (!allLive) perStep[t] = Tensor.FromArray(row.ToArray(), batch, 1);
        }
        return perStep;
    }
}
