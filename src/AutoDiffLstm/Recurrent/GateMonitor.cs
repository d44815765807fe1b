using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>The range of a gate's activation, which decides what "saturated" means.</summary>
public enum GateRange
{
    /// <summary>A sigmoid gate in (0, 1): saturated below 0.05 or above 0.95.</summary>
    Sigmoid,
    /// <summary>A tanh activation in (-1, 1): saturated where |a| exceeds 0.95.</summary>
    Tanh,
}

/// <summary>
/// Where cells report their gate activations, so that diagnostics can watch gates of ANY cell (built-in or custom)
/// without the cell knowing about them. A cell calls <see cref="Observe{T}"/> once per gate per step; outside a
/// <see cref="Listen"/> scope that is a single null check.
/// </summary>
public static class GateMonitor
{
    [ThreadStatic] private static Action<string, TensorBase, GateRange>? listener;

    /// <summary>
    /// Reports gate <paramref name="gate"/>'s activation at the current step (e.g. "input", "forget"). Ignored while a
    /// checkpointed segment is recomputed in backward, so that listeners see every step once.
    /// </summary>
    public static void Observe<T>(string gate, Tensor<T> activation, GateRange range = GateRange.Sigmoid) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (tracer is not null) tracer(gate, activation, range);
        else if (!GradientCheckpoint.IsRecomputing) listener?.Invoke(gate, activation, range);
    }

    /// <summary>Whether a listener is active (a compiled step then keeps the observed gates as outputs).</summary>
    internal static bool IsListening => listener is not null;

    /// <summary>Set while a step is traced: observations become part of the traced graph instead of reaching listeners.</summary>
    [ThreadStatic] internal static Action<string, TensorBase, GateRange>? tracer;

    /// <summary>Calls <paramref name="onGate"/> for every observed gate until the scope is disposed (scopes nest; the previous listener is restored).</summary>
    public static IDisposable Listen(Action<string, TensorBase, GateRange> onGate)
    {
        var previous = listener;
        listener = onGate;
        return new Restore(previous);
    }

    private sealed class Restore(Action<string, TensorBase, GateRange>? previous) : IDisposable
    {
        public void Dispose() => listener = previous;
    }
}
