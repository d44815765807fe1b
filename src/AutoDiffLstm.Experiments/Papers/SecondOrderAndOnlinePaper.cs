namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// "Beyond the gradient: second-order and online learning for recurrent networks": Hessian-free optimisation against
/// Adam and clipped SGD on a pathological long-range task, and the curvature spectrum during training
/// (<c>SecondOrderAndOnlinePaper.HessianFree.cs</c>); then online gradients (RTRL's exactness, UORO's variance, the cost
/// per step of RTRL, UORO and BPTT) and the largest Lyapunov exponent against the measured gradient decay
/// (<see cref="OnlineLearningSections"/>). The prose of both parts lives in the paper's paper.md.
/// </summary>
public sealed partial class SecondOrderAndOnlinePaper : IPaper
{
    /// <inheritdoc/>
    public string Id => "second-order-and-online";

    /// <inheritdoc/>
    public string Title => "Beyond the gradient: second-order and online learning for recurrent networks";

    /// <inheritdoc/>
    public void Run(PaperContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The online sections first: their per-step timings are then not shared with the parallel HF training runs.
        OnlineLearningSections.Run(context);
        RunHessianFree(context);
    }
}
