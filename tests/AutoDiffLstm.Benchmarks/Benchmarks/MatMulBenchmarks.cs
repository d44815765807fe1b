using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace AutoDiffLstm.Benchmarks;

/// <summary>Float matrix products [M, K] @ [K, N]: a large square one and the recurrent GEMMs of W1 and W3.</summary>
public enum MatMulShape { Square1024, W1Gates64x512x2048, W3Gates8x32x128 }

/// <summary>
/// Forward-only float GEMM throughput, ours (Tensor.MatMul over Gemm) against torch.matmul (MKL/oneDNN inside
/// libtorch), 1 and 2 threads. The GFLOP/s column is 2*M*N*K over the mean time.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[Config(typeof(GflopsConfig))]
public class MatMulBenchmarks
{
    private Tensor<float> ourA = null!, ourB = null!;
    private TorchTensor torchA = null!, torchB = null!;

    [ParamsSource(nameof(ShapeValues))]
    public MatMulShape Shape { get; set; }

    [ParamsSource(nameof(ThreadValues))]
    public int Threads { get; set; }

    public static IEnumerable<MatMulShape> ShapeValues => Selection.Shapes;
    public static IEnumerable<int> ThreadValues => Selection.Threads;

    public static (int M, int K, int N) Dimensions(MatMulShape shape) => shape switch
    {
        MatMulShape.Square1024 => (1024, 1024, 1024),
        MatMulShape.W1Gates64x512x2048 => (64, 512, 2048),
        MatMulShape.W3Gates8x32x128 => (8, 32, 128),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "MatMulShape: unknown shape."),
    };

    [GlobalSetup]
    public void Setup()
    {
        Engines.Configure(Threads);
        var (m, k, n) = Dimensions(Shape);
        var rng = new Rng(3);
        ourA = AutoDiffLstm.Tensor.RandomNormal<float>(rng, [m, k]);
        ourB = AutoDiffLstm.Tensor.RandomNormal<float>(rng, [k, n]);
        ourC = new float[m * n];
        torchA = torch.randn(m, k);
        torchB = torch.randn(k, n);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        torchA?.Dispose();
        torchB?.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("MatMul")]
    public void TorchMatMul()
    {
        using var c = torch.matmul(torchA, torchB);
    }

    /// <summary>The tensor operation: kernel plus a fresh output tensor (large outputs land on the large-object heap).</summary>
    [Benchmark, BenchmarkCategory("MatMul")]
    public float OurMatMul() => ourA.MatMul(ourB).AsSpan()[0];

    /// <summary>The kernel alone, writing into a preallocated C: the sgemm comparison without the allocator.</summary>
    [Benchmark, BenchmarkCategory("MatMul")]
    public float OurGemm()
    {
        var (m, k, n) = Dimensions(Shape);
        Gemm.Run(ourA.Data, 0, false, ourB.Data, 0, false, ourC, 0, m, n, k, accumulate: false);
        return ourC[0];
    }

    /// <summary>Time steps of <see cref="OurGemmPerStep"/>: the T of W1-W3.</summary>
    private const int Steps = 100;

    /// <summary>
    /// The kernel as an unrolled recurrence runs it: B is a parameter, packed once for <see cref="Steps"/> products
    /// inside a <see cref="PackedOperands"/> scope (as <c>Unroll</c> and backward do), so this is the per-step product
    /// of training; <see cref="OurGemm"/> packs B at every call.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("MatMul")]
    public float OurGemmPerStep()
    {
        var (m, k, n) = Dimensions(Shape);
        using var scope = PackedOperands.Open();
        for (int t = 0; t < Steps; t++) Gemm.Run(ourA.Data, 0, false, ourB.Data, 0, false, ourC, 0, m, n, k, accumulate: false, constantB: true);
        return ourC[0];
    }

    private float[] ourC = null!;
}
