using System.Numerics;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training.Online;

namespace AutoDiffLstm.Diagnostics;

/// <summary>
/// The Lyapunov spectrum of a recurrent network driven by one input sequence: the exponential rates λ_1 ≥ λ_2 ≥ ...
/// (per step, natural log) at which the state map s_t = F(x_t, s_{t-1}) stretches or shrinks volumes of perturbations.
/// </summary>
/// <param name="Cell">The cell's kind.</param>
/// <param name="Exponents">λ_1 ≥ ... ≥ λ_k, nats per step (k = the number requested, at most the state size); -∞ for a direction the dynamics annihilate (a dead ReLU unit, a state the step overwrites).</param>
/// <param name="StateSize">n, the number of state scalars (all state tensors of one sequence).</param>
/// <param name="Steps">Steps averaged over (after the warm-up).</param>
/// <param name="Warmup">Steps run first, for the state and the orthonormal frame to settle, not averaged.</param>
public sealed record LyapunovSpectrum(string Cell, double[] Exponents, int StateSize, int Steps, int Warmup)
{
    /// <summary>λ_1, the rate of the fastest-growing perturbation: above 0 chaotic (exploding), below 0 contracting (vanishing).</summary>
    public double Largest => Exponents[0];

    /// <summary>Σ λ_i; with the full spectrum, the mean log |det J_t| (the rate of change of state-space volume).</summary>
    public double Sum => Exponents.Sum();

    /// <summary>
    /// λ_1 / ln 10: the change of log10 ||dL/dh_t|| per step back from a loss that the spectrum predicts, since the
    /// backward product J_T^T ... J_{t+1}^T has the same exponents as the forward one. Compare with
    /// <see cref="GradientFlowResult.Log10SlopePerStep"/>.
    /// </summary>
    public double PredictedLog10GradientChangePerStep => Largest / Math.Log(10);
}

/// <summary>
/// Lyapunov spectra by the standard QR iteration (Benettin et al. 1980; for recurrent networks Vogt et al. 2022 and
/// Engelken, Wolf and Abbott 2023): carry an orthonormal frame Q (n x k) along the trajectory,
/// <code>
/// J_t Q_{t-1} = Q_t R_t        (thin QR, Householder, R_ii ≥ 0)
/// λ_i = (1/T) Σ_t log R_t,ii
/// </code>
/// where J_t = ∂s_t/∂s_{t-1} is the state Jacobian at step t. J_t Q is formed column by column with forward-mode
/// tangent passes through the step recorded once (k passes per step, no Jacobian matrix is built).
/// </summary>
public static class Lyapunov
{
    /// <summary>
    /// The <paramref name="count"/> largest exponents (all n when null) of <paramref name="cell"/> driven by
    /// <paramref name="inputs"/> ([T, 1, I], one sequence) from the zero state; the first <paramref name="warmup"/>
    /// steps set the state and frame but are not averaged. The frame starts as the first k unit vectors.
    /// </summary>
    public static LyapunovSpectrum Spectrum<T>(RecurrentCell<T> cell, Tensor<T> inputs, int? count = null, int warmup = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Rank != 3 || inputs.Shape[1] != 1 || inputs.Shape[2] != cell.InputSize)
            throw new ArgumentException($"Lyapunov.Spectrum: inputs must be one sequence of shape [T, 1, {cell.InputSize}] for {cell}, got {inputs.ShapeText}.");
        int steps = inputs.Shape[0];
        if (warmup < 0 || warmup >= steps)
            throw new ArgumentOutOfRangeException(nameof(warmup), warmup, $"Lyapunov.Spectrum: the warm-up must be in [0, {steps}) for {steps} steps, got {warmup}.");
        var sizes = Enumerable.Range(0, cell.StateNames.Count).Select(cell.StateSize).ToArray();
        int n = sizes.Sum(), k = count ?? n;
        if (k < 1 || k > n)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Lyapunov.Spectrum: the number of exponents must be in [1, {n}] (the state size of {cell}), got {count}.");

        var frame = new double[n * k]; // column-major
        for (int j = 0; j < k; j++) frame[j * n + j] = 1;
        var logSums = new double[k];
        var state = cell.InitialState(1);
        var noParameterTangents = new Tensor<T>?[cell.Parameters.Count];
        for (int t = 0; t < steps; t++)
        {
            var stretched = new double[n * k];
            using (var step = new RecordedStep<T>("Lyapunov.Spectrum", cell, inputs.Select(0, t), state))
            {
                for (int j = 0; j < k; j++)
                {
                    var pushed = step.Push(noParameterTangents, Split<T>(frame.AsSpan(j * n, n), sizes));
                    int row = 0;
                    for (int i = 0; i < sizes.Length; i++)
                    {
                        if (pushed[i] is { } tangent)
                            for (int r = 0; r < sizes[i]; r++) stretched[j * n + row + r] = double.CreateChecked(tangent.AsSpan()[r]);
                        row += sizes[i];
                    }
                }
                state = step.Next.Map(s => s.Clone());
            }
            var (q, rMatrix) = HouseholderQr.Factor(stretched, n, k);
            frame = q;
            if (t < warmup) continue;
            for (int i = 0; i < k; i++) logSums[i] += Math.Log(rMatrix[i * k + i]);
        }
        int averaged = steps - warmup;
        var exponents = logSums.Select(s => s / averaged).OrderDescending().ToArray();
        return new LyapunovSpectrum(cell.Kind, exponents, n, averaged, warmup);
    }

    /// <summary>One column of the frame cut into tangents for the state tensors ([1, size_i] each).</summary>
    private static Tensor<T>?[] Split<T>(ReadOnlySpan<double> column, int[] sizes) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parts = new Tensor<T>?[sizes.Length];
        int row = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            var values = new T[sizes[i]];
            for (int r = 0; r < values.Length; r++) values[r] = T.CreateChecked(column[row + r]);
            parts[i] = new Tensor<T>([1, sizes[i]], values);
            row += sizes[i];
        }
        return parts;
    }
}
