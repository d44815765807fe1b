namespace AutoDiffLstm.Benchmarks;

/// <summary>The training workloads of the side-by-side comparison (shapes in <see cref="WorkloadShape.Of"/>).</summary>
public enum Workload { W1, W2, W3, W4 }

/// <summary>Sequence length, batch, input and hidden width, and element type of one workload.</summary>
internal sealed record WorkloadShape(int Steps, int Batch, int Input, int Hidden, bool IsDouble)
{
    public static WorkloadShape Of(Workload w) => w switch
    {
        Workload.W1 => new(100, 64, 512, 512, false),   // large GEMMs: throughput-bound
        Workload.W2 => new(100, 32, 256, 256, false),
        Workload.W3 => new(100, 8, 32, 32, false),      // tiny GEMMs: per-operation overhead dominates
        Workload.W4 => new(1000, 1, 64, 64, true),      // long double-precision sequence, batch 1 (gradient-flow studies)
        _ => throw new ArgumentOutOfRangeException(nameof(w), w, "Workload: expected W1..W4."),
    };

    public override string ToString() => $"T={Steps} B={Batch} I={Input} H={Hidden} {(IsDouble ? "double" : "float")}";
}

/// <summary>
/// One training iteration: forward over the whole sequence, a scalar loss (the sum of every output h_t), and a full
/// backward pass to every weight, the input sequence and the initial state. Returns the loss so that no work can be
/// optimised away. Gradients are cleared at the start of each iteration, as a training loop does.
/// </summary>
internal interface ITrainingStep : IDisposable
{
    double Run();
}
