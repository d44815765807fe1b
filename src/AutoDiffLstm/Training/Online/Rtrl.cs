using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Training.Online;

/// <summary>
/// Exact real-time recurrent learning (Williams and Zipser 1989). The full sensitivity S_t = ds_t/dθ (every state
/// tensor: h, and c for an LSTM) is carried forward by
/// <code>
/// S_t = ∂F/∂s_{t-1} · S_{t-1} + ∂F/∂θ,    S_0 = 0
/// dℓ_t/dθ = ∂ℓ_t/∂s_t · S_t
/// </code>
/// one forward-mode tangent pass per parameter column k: tangent e_k on θ and column k of S_{t-1} on s_{t-1}, through
/// the step recorded once. Summed over t this is exactly the gradient of Σ_t ℓ_t that backpropagation through time
/// gives, to rounding. Cost per step: P tangent passes, O(P · cost of a step) time (O(H^4) for a dense cell) and
/// P · |s| numbers of memory, independent of the sequence length; hence for small networks only.
/// </summary>
/// <example>
/// <code>
/// var rtrl = new Rtrl&lt;double&gt;(cell, batchSize: 1);
/// for (int t = 0; t &lt; steps; t++) rtrl.Step(x[t], h =&gt; (h - y[t]).Square().Mean());
/// // cell parameters' Grad now hold d(Σ_t ℓ_t)/dθ
/// </code>
/// </example>
public sealed class Rtrl<T> : OnlineGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // sensitivity[k][i]: column k of S (parameter scalar k) restricted to state tensor i, flat [B * size_i]; null = zero.
    private T[]?[][] sensitivity;

    /// <summary>Exact RTRL for <paramref name="cell"/> on batches of <paramref name="batchSize"/> rows.</summary>
    public Rtrl(RecurrentCell<T> cell, int batchSize = 1) : base("Rtrl", cell, batchSize)
    {
        sensitivity = NewSensitivity();
    }

    /// <inheritdoc/>
    public override long SensitivityElements => (long)ParameterCount * StateCount;

    /// <summary>The current ds_t/dθ as a [state scalars, P] matrix (state tensors stacked in order, batch rows inside each), for inspection.</summary>
    public Tensor<T> Sensitivity()
    {
        int p = ParameterCount, n = StateCount;
        var m = new T[n * p];
        for (int k = 0; k < p; k++)
        {
            int row = 0;
            for (int i = 0; i < StateSizes.Length; i++)
            {
                if (sensitivity[k][i] is { } column)
                    for (int r = 0; r < column.Length; r++) m[(row + r) * p + k] = column[r];
                row += StateSizes[i];
            }
        }
        return new Tensor<T>([n, p], m);
    }

    private protected override void Advance(RecordedStep<T> step)
    {
        var next = NewSensitivity();
        var parameterTangents = new Tensor<T>?[ParameterSizes.Length];
        var stateTangents = new Tensor<T>?[StateSizes.Length];
        int k = 0;
        for (int j = 0; j < ParameterSizes.Length; j++)
        {
            var unit = Tensor.Zeros<T>([.. step.Parameters[j].Shape]);
            var data = unit.AsWritableSpan();
            parameterTangents[j] = unit;
            for (int e = 0; e < ParameterSizes[j]; e++, k++)
            {
                data[e] = T.One;
                for (int i = 0; i < stateTangents.Length; i++)
                    stateTangents[i] = sensitivity[k][i] is { } s ? new Tensor<T>([.. step.Previous[i].Shape], s) : null;
                var pushed = step.Push(parameterTangents, stateTangents);
                // Copied before the unit vector is cleared: a rule may hand its input tangent on as its output's.
                for (int i = 0; i < pushed.Length; i++) next[k][i] = pushed[i]?.ToArray();
                data[e] = T.Zero;
            }
            parameterTangents[j] = null;
        }
        sensitivity = next;
    }

    private protected override T[][] Estimate(T[][] lossStateGradient)
    {
        var gradient = ParameterSizes.Select(n => new T[n]).ToArray();
        int k = 0;
        for (int j = 0; j < gradient.Length; j++)
            for (int e = 0; e < gradient[j].Length; e++, k++)
            {
                T sum = T.Zero;
                for (int i = 0; i < lossStateGradient.Length; i++)
                    if (sensitivity[k][i] is { } column) sum += Dot(lossStateGradient[i], column);
                gradient[j][e] = sum;
            }
        return gradient;
    }

    private protected override void ResetSensitivity() => sensitivity = NewSensitivity();

    private T[]?[][] NewSensitivity()
    {
        var s = new T[]?[ParameterCount][];
        for (int k = 0; k < s.Length; k++) s[k] = new T[]?[StateSizes.Length];
        return s;
    }
}
