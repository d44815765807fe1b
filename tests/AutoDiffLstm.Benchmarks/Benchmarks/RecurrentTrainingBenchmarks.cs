using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// One training iteration (forward over the sequence, sum of all outputs, full backward) of our LSTM, GRU and tanh
/// RNN (compiled, the default, and interpreted) against libtorch and against the iteration's products alone (the floor), for every workload and thread count. The anchor (ratio 1.00) is libtorch's fused nn.LSTM at
/// the same workload and thread count.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RecurrentTrainingBenchmarks
{
    private ITrainingStep torchFused = null!, torchLstm = null!, torchRnn = null!, ourLstm = null!, ourGru = null!, ourRnn = null!,
        ourLstmInterpreted = null!, ourGruInterpreted = null!, ourRnnInterpreted = null!, ourLstmCustom = null!, products = null!;

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
        torchFused = new TorchFusedLstmStep(Workload);
        torchLstm = new TorchComposedStep(CellKind.Lstm, Workload);
        torchRnn = new TorchComposedStep(CellKind.Rnn, Workload);
        ourLstm = OurTrainingStep.Create(CellKind.Lstm, Workload);
        ourGru = OurTrainingStep.Create(CellKind.Gru, Workload);
        ourRnn = OurTrainingStep.Create(CellKind.Rnn, Workload);
        ourLstmInterpreted = OurTrainingStep.Create(CellKind.Lstm, Workload, compile: false);
        ourLstmCustom = OurTrainingStep.Create(CellKind.Lstm, Workload, customCell: true);
        ourGruInterpreted = OurTrainingStep.Create(CellKind.Gru, Workload, compile: false);
        ourRnnInterpreted = OurTrainingStep.Create(CellKind.Rnn, Workload, compile: false);
        products = ProductsOnlyStep.Create(Workload);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var step in new[] { torchFused, torchLstm, torchRnn, ourLstm, ourGru, ourRnn, ourLstmInterpreted, ourGruInterpreted, ourRnnInterpreted, ourLstmCustom, products }) step?.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Training")]
    public double TorchLstmFused() => torchFused.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double TorchLstmComposed() => torchLstm.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double TorchRnnComposed() => torchRnn.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double OurLstm() => ourLstm.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double OurGru() => ourGru.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double OurRnn() => ourRnn.Run();

    /// <summary>The interpreted tape (Compile = false): one entry per primitive.</summary>
    [Benchmark, BenchmarkCategory("Training")]
    public double OurLstmInterpreted() => ourLstmInterpreted.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double OurGruInterpreted() => ourGruInterpreted.Run();

    [Benchmark, BenchmarkCategory("Training")]
    public double OurRnnInterpreted() => ourRnnInterpreted.Run();

    /// <summary>The same LSTM written as a CustomCell (README style), compiled: the target is within 1.1x of <see cref="OurLstm"/>.</summary>
    [Benchmark, BenchmarkCategory("Training")]
    public double OurLstmCustomCell() => ourLstmCustom.Run();

    /// <summary>Only the LSTM iteration's matrix products: the measured floor.</summary>
    [Benchmark, BenchmarkCategory("Training")]
    public double LstmProductsOnly() => products.Run();
}
