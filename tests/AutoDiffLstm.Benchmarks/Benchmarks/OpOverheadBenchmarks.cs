using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// The fixed cost of one differentiable operation: forward and backward of a one-element Add, where the arithmetic is
/// nothing and recording, dispatch and gradient bookkeeping are everything. This is what a batch-1 recurrence pays per
/// primitive per step. Gradients accumulate into the leaves across calls in both engines (no zeroing in the loop).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class OpOverheadBenchmarks
{
    private Tensor<float> ourA = null!, ourB = null!;
    private TorchTensor torchA = null!, torchB = null!;

    [GlobalSetup]
    public void Setup()
    {
        Engines.Configure(threads: 1);
        ourA = AutoDiffLstm.Tensor.Scalar(1.5f).RequireGrad();
        ourB = AutoDiffLstm.Tensor.Scalar(2.5f).RequireGrad();
        torchA = torch.tensor(1.5f, requires_grad: true);
        torchB = torch.tensor(2.5f, requires_grad: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        torchA?.Dispose();
        torchB?.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AddForwardBackward")]
    public void TorchAdd()
    {
        using var y = torchA + torchB;
        y.backward();
    }

    [Benchmark, BenchmarkCategory("AddForwardBackward")]
    public void OurAdd()
    {
        var y = ourA + ourB;
        y.Backward();
    }
}
