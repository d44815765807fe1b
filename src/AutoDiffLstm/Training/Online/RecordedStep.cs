using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Training.Online;

/// <summary>
/// One step s_t = F(x_t, s_{t-1}, θ) of a cell recorded once on a private tape, with stand-in leaves for θ and s_{t-1},
/// so that its Jacobians can be applied many times without re-running the step: <see cref="Push"/> is forward mode
/// (∂F/∂θ · dθ + ∂F/∂s · ds, one tangent pass) and <see cref="Pull"/> reverse mode (ν^T ∂F/∂θ). The
/// caller's parameters and their gradients are never touched. Dispose to give the private tape back.
/// </summary>
internal sealed class RecordedStep<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Autograd.Scope scope;
    private readonly Tape tape;
    private readonly int recorded;
    private readonly string op;

    /// <summary>Stand-ins for the cell's parameters, in the cell's order.</summary>
    public Tensor<T>[] Parameters { get; }

    /// <summary>Stand-ins for the previous state tensors.</summary>
    public Tensor<T>[] Previous { get; }

    /// <summary>The new state (values on the private tape).</summary>
    public RecurrentState<T> Next { get; }

    /// <summary>Records F at (x, state, the cell's parameters). <paramref name="op"/> names the caller in errors.</summary>
    public RecordedStep(string op, RecurrentCell<T> cell, Tensor<T> x, RecurrentState<T> state)
    {
        this.op = op;
        scope = Tape.UsePrivateTape();
        try
        {
            tape = Tape.Current;
            var named = cell.NamedParameters();
            Parameters = named.Select(p => p.Value.Detach().RequireGrad()).ToArray();
            Previous = state.Tensors.Select(s => s.Detach().RequireGrad()).ToArray();
            var standIn = cell.WithParameters(named.Select((p, i) => new KeyValuePair<string, Tensor<T>>(p.Key, Parameters[i])));
            Next = standIn.Next(x, new RecurrentState<T>(cell.StateNames, Previous));
            recorded = tape.Count;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tangent of every new state tensor when θ moves along <paramref name="parameterTangents"/> and s_{t-1} along
    /// <paramref name="stateTangents"/> (null entries are zero directions); null in the result means a zero tangent.
    /// </summary>
    public Tensor<T>?[] Push(Tensor<T>?[] parameterTangents, Tensor<T>?[] stateTangents)
    {
        var pushed = new Tangents();
        for (int i = 0; i < Parameters.Length; i++)
            if (parameterTangents[i] is { } d) pushed.Set(Parameters[i], d, op);
        for (int i = 0; i < Previous.Length; i++)
            if (stateTangents[i] is { } d) pushed.Set(Previous[i], d, op);
        try
        {
            using (Autograd.NoGrad()) tape.PushTangents(0, recorded, pushed);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{op}: the step of this cell goes through an operation without a forward-mode (JVP) rule, " +
                $"so its sensitivities cannot be carried forward. {e.Message}", e);
        }
        return Next.Tensors.Select(s => pushed.Of<T>(s)).ToArray();
    }

    /// <summary>
    /// ν^T ∂F/∂θ and ν^T ∂F/∂s_{t-1} for cotangents ν on the new state tensors (one reverse pass; the tape is kept).
    /// </summary>
    public (Tensor<T>[] Parameters, Tensor<T>[] State) Pull(Tensor<T>[] stateCotangents)
    {
        foreach (var p in Parameters) p.ZeroGrad();
        foreach (var s in Previous) s.ZeroGrad();
        Tensor<T>? inner = null;
        for (int i = 0; i < stateCotangents.Length; i++)
        {
            if (!Next[i].RequiresGrad) continue;
            var term = (Next[i] * stateCotangents[i]).Sum();
            inner = inner is null ? term : inner + term;
        }
        if (inner is not null) inner.Backward(retainGraph: true);
        return (Parameters.Select(p => p.Grad?.Clone() ?? Tensor.Zeros<T>([.. p.Shape])).ToArray(),
                Previous.Select(s => s.Grad?.Clone() ?? Tensor.Zeros<T>([.. s.Shape])).ToArray());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        tape.Reset();
        scope.Dispose();
    }
}
