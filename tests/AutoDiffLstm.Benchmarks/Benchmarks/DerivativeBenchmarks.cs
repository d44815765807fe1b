using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// Forward mode and Hessian-vector products of our LSTM's loss (the sum of every h_t, as a function of its four
/// parameters; <see cref="IDerivativeWork"/>) against their units in the same run: a JVP against one forward pass
/// (category <c>Jvp</c>, anchor <see cref="OurForward"/>; target at most 3), an HVP against one gradient (category
/// <c>Hvp</c>, anchor <see cref="OurGradient"/>; target at most 5), both modes of <see cref="HvpMode"/>, with the
/// recurrent step compiled (the default) and interpreted, and PyTorch's double backward on the composed TorchSharp LSTM.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class DerivativeBenchmarks
{
    private IDerivativeWork ours = null!;
    private TorchDerivativeWork torch = null!;

    [ParamsSource(nameof(WorkloadValues))]
    public Workload Workload { get; set; }

    [ParamsSource(nameof(ThreadValues))]
    public int Threads { get; set; }

    public static IEnumerable<Workload> WorkloadValues => Selection.Workloads;
    public static IEnumerable<int> ThreadValues => Selection.Threads;

    [GlobalSetup]
    public void Setup()
    {
        Engines.Configure(Threads);
        ours = OurDerivativeWork.Create(Workload);
        torch = new TorchDerivativeWork(Workload);
    }

    [GlobalCleanup]
    public void Cleanup() => torch?.Dispose();

    /// <summary>L alone, nothing recorded: the unit of a JVP.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Jvp")]
    public double OurForward() => ours.Forward();

    /// <summary>L recorded on the tape (what a JVP's first half does), then the tape dropped.</summary>
    [Benchmark, BenchmarkCategory("Jvp")]
    public double OurForwardRecorded() => ours.ForwardRecorded();

    [Benchmark, BenchmarkCategory("Jvp")]
    public double OurJvp() => ours.Jvp(compile: true);

    [Benchmark, BenchmarkCategory("Jvp")]
    public double OurJvpInterpreted() => ours.Jvp(compile: false);

    /// <summary>One forward and one backward: the unit of an HVP.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Hvp")]
    public double OurGradient() => ours.Gradient();

    [Benchmark, BenchmarkCategory("Hvp")]
    public double OurHvpForwardOverReverse() => ours.Hvp(HvpMode.ForwardOverReverse, compile: true);

    [Benchmark, BenchmarkCategory("Hvp")]
    public double OurHvpForwardOverReverseInterpreted() => ours.Hvp(HvpMode.ForwardOverReverse, compile: false);

    [Benchmark, BenchmarkCategory("Hvp")]
    public double OurHvpReverseOverReverse() => ours.Hvp(HvpMode.ReverseOverReverse, compile: true);

    [Benchmark, BenchmarkCategory("Hvp")]
    public double OurHvpReverseOverReverseInterpreted() => ours.Hvp(HvpMode.ReverseOverReverse, compile: false);

    /// <summary>torch.autograd.grad on the composed TorchSharp LSTM: libtorch's own unit.</summary>
    [Benchmark, BenchmarkCategory("Hvp")]
    public double TorchGradient() => torch.Gradient();

    /// <summary>PyTorch's double backward (create_graph, then the gradient of &lt;g, v&gt;) on the same model.</summary>
    [Benchmark, BenchmarkCategory("Hvp")]
    public double TorchDoubleBackward() => torch.DoubleBackward();
}
