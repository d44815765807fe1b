using AutoDiffLstm.Recurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// One training iteration (forward, sum of every output, full backward) of minGRU trained by its parallel form (one
/// projection over all T*B rows, one scan over time), the same minGRU stepped T times, and our LSTM, at B = 8,
/// I = H = 64, float, on 1 and 2 threads (<c>--threads</c>). The anchor (ratio 1.00) is the stepped minGRU: the ratio of
/// the scan row is the speed-up of the parallel form on the same cell. libtorch is not involved.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ScanBenchmarks
{
    private const int Batch = 8, Hidden = 64;
    private RecurrentLayer<float> minGru = null!, lstm = null!;
    private Tensor<float> x = null!;
    private Tensor<float>[] leaves = null!;

    [Params(1000, 10000)]
    public int Steps { get; set; }

    [ParamsSource(nameof(ThreadValues))]
    public int Threads { get; set; }

    public static IEnumerable<int> ThreadValues => Selection.Threads;

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads; // no libtorch here: only our own kernels
        var rng = new Rng(1);
        minGru = new RecurrentLayer<float>((i, r) => new MinGruCell<float>(i, Hidden, r), Hidden, rng.Fork());
        lstm = RecurrentLayer.Lstm<float>(Hidden, Hidden, rng.Fork());
        x = Tensor.RandomNormal<float>(rng, [Steps, Batch, Hidden]).RequireGrad();
        leaves = [.. minGru.NamedParameters().Select(p => p.Value), .. lstm.NamedParameters().Select(p => p.Value), x];
    }

    private double Iterate(RecurrentLayer<float> layer, bool parallel)
    {
        using var reuse = Tape.ReuseBuffers();
        foreach (var leaf in leaves) leaf.Grad?.AsWritableSpan().Clear();
        var loss = layer.Forward(x, new SequenceOptions<float> { ParallelForm = parallel }).Output.Sum();
        loss.Backward();
        return loss.ItemAsDouble();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Scan")]
    public double MinGruStepped() => Iterate(minGru, parallel: false);

    [Benchmark, BenchmarkCategory("Scan")]
    public double MinGruScan() => Iterate(minGru, parallel: true);

    [Benchmark, BenchmarkCategory("Scan")]
    public double Lstm() => Iterate(lstm, parallel: false);
}
