using AutoDiffLstm.Recurrent;
using BenchmarkDotNet.Attributes;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// What compiling a cell's step costs, once per shape: a fresh cell of every registered kind (W3's sizes, float),
/// then its step traced twice on stand-ins, checked, grouped and turned into fused programs for a batch of 8
/// (<see cref="RecurrentCell{T}.CompiledStep"/>'s lookup, what the first time step of a layer pays). The anchor
/// (<see cref="CreateOnly"/>) is making the cell alone, so the difference is the compile. Issue #15's target: under
/// 50 ms. Measured warm (the engine's code already jitted); a process's very first compile also jits the engine
/// (<c>adl compile --cell lstm</c> prints that figure).
/// </summary>
[MemoryDiagnoser]
public class CompileBenchmarks
{
    private const int Size = 32, Batch = 8;

    [ParamsSource(nameof(Cells))]
    public string Cell { get; set; } = "lstm";

    public static IEnumerable<string> Cells => CellRegistry.Names;

    private RecurrentCell<float> Create() => CellRegistry.Create<float>(Cell, Size, Size, new Rng(1));

    [Benchmark(Baseline = true)]
    public object CreateOnly() => Create();

    [Benchmark]
    public string? CreateAndCompile()
    {
        var cell = Create();
        return cell.CompiledStep.FallbackReason(cell.StepInputShapes(Batch));
    }

    /// <summary>As <see cref="CreateAndCompile"/>, then the code generated for each fused group (<see cref="GroupKernel{T}"/>), which a whole-sequence pass builds on its first use.</summary>
    [Benchmark]
    public int CreateCompileAndGenerate()
    {
        var cell = Create();
        cell.CompiledStep.FallbackReason(cell.StepInputShapes(Batch));
        int generated = 0;
        foreach (var (program, _) in cell.CompiledStep.Traced)
            foreach (var group in program?.Groups ?? [])
                if (group.Kernel is not null) generated++;
        return generated;
    }
}
