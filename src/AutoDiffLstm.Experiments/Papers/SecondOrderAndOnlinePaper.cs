namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// "Beyond the gradient: second-order and online learning for recurrent networks": Hessian-free optimisation against
/// Adam and clipped SGD on a pathological long-range task, and the curvature spectrum during training
/// (<c>SecondOrderAndOnlinePaper.HessianFree.cs</c>). The class is partial so that further sections (online learning
/// with RTRL and UORO, Lyapunov spectra) live in files of their own.
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
        RunHessianFree(context);
    }
}
