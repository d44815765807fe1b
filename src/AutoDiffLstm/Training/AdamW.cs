using System.Numerics;

namespace AutoDiffLstm.Training;

/// <summary>
/// AdamW: Adam with decoupled weight decay (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization",
/// Algorithm 2), with the update of PyTorch's <c>torch.optim.AdamW</c>: before the Adam step (which sees the raw
/// gradient, no L2 term) the parameter shrinks by θ_t ← θ_{t-1} − γ λ θ_{t-1}. Unlike L2 in Adam, the decay is not
/// divided by √v̂, so every weight decays at the same relative rate γλ regardless of its gradient history.
/// (PyTorch ties the decay to the learning rate γ; the paper scales it by a separate schedule multiplier η_t.)
/// </summary>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="parameters">The tensors to update.</param>
    /// <param name="learningRate">γ (PyTorch default 1e-3).</param>
    /// <param name="beta1">β1 in [0, 1).</param>
    /// <param name="beta2">β2 in [0, 1).</param>
    /// <param name="epsilon">ε &gt;= 0.</param>
    /// <param name="weightDecay">λ &gt;= 0, decoupled (PyTorch default 1e-2); the shrink factor per step is 1 − γλ.</param>
    public AdamW(IReadOnlyList<Tensor<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 1e-2)
        : base("AdamW", parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true) { }
}
