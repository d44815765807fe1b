namespace AutoDiffLstm;

/// <summary>Process-wide switches of the autodiff engine: gradient recording and anomaly detection (per thread).</summary>
public static partial class Autograd
{
    [ThreadStatic] private static int noGradDepth;
    [ThreadStatic] private static int anomalyDepth;

    /// <summary>False inside a <see cref="NoGrad"/> scope: operations run but are not recorded.</summary>
    public static bool IsGradEnabled => noGradDepth == 0;

    /// <summary>True inside a <see cref="DetectAnomaly"/> scope.</summary>
    public static bool AnomalyDetectionEnabled => anomalyDepth > 0;

    /// <summary>Runs operations without recording them until the returned scope is disposed (evaluation, parameter updates).</summary>
    public static Scope NoGrad()
    {
        noGradDepth++;
        return new Scope(static () => noGradDepth--);
    }

    /// <summary>
    /// Records again inside a <see cref="NoGrad"/> scope until disposed: for a rule that must replay its operations as
    /// a recording while a pass that is not recorded (a tangent pass) runs.
    /// </summary>
    internal static Scope GradEnabled()
    {
        int saved = noGradDepth;
        noGradDepth = 0;
        return new Scope(() => noGradDepth = saved);
    }

    /// <summary>
    /// Opt-in anomaly mode: every operation's output, and in backward every gradient it produces, is checked for NaN and
    /// Inf; the first offender throws <see cref="AnomalyException"/> naming the operation. It costs a scan per op.
    /// </summary>
    public static Scope DetectAnomaly()
    {
        anomalyDepth++;
        return new Scope(static () => anomalyDepth--);
    }

    /// <summary>Restores the previous mode when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly Action? onDispose;
        internal Scope(Action onDispose) { this.onDispose = onDispose; }
        /// <inheritdoc/>
        public void Dispose() => onDispose?.Invoke();
    }

    internal static void CheckForward(string op, TensorBase output, TensorBase? a, TensorBase? b, TensorBase? c)
    {
        int bad = output.FirstNonFinite();
        if (bad < 0) return;
        string inputs = string.Join(", ", new[] { a, b, c }.Where(t => t is not null).Select(t => $"{t!.ShapeText}{(t!.FirstNonFinite() >= 0 ? " (already non-finite)" : "")}"));
        throw new AnomalyException($"Anomaly in forward: '{op}' produced a non-finite value at flat index {bad} of its {output.ElementTypeName} output of shape {output.ShapeText}; inputs: {inputs}.", op, forward: true);
    }

    internal static void CheckBackward(in TapeEntry e, int index)
    {
        int k = 0;
        foreach (var input in e.Inputs())
        {
            int bad = input.FirstNonFiniteGrad();
            if (bad >= 0)
                throw new AnomalyException(
                    $"Anomaly in backward: the gradient rule of '{e.Rule.Name}' (tape entry #{index}) produced a non-finite value at flat index {bad} of the gradient of its input {k} (shape {input.ShapeText}).",
                    e.Rule.Name, forward: false);
            k++;
        }
    }
}

/// <summary>Thrown in anomaly mode by the first operation that produces NaN or Inf.</summary>
public sealed class AnomalyException : Exception
{
    /// <summary>The offending operation's name.</summary>
    public string Operation { get; }

    /// <summary>True if the value appeared in the forward pass, false if in a gradient.</summary>
    public bool InForward { get; }

    internal AnomalyException(string message, string op, bool forward) : base(message)
    {
        Operation = op;
        InForward = forward;
    }
}
