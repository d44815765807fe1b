using AutoDiffLstm.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Our flags (--quick, --check, --peak, --memory, --paired, --inprocess, --workloads, --threads, --shapes) are taken out here; everything
// else (--filter, --job, --list, ...) is BenchmarkDotNet's own command line. See README.md.
var rest = Selection.Consume(args, out var mode);
AutoDiffLstm.Compiler.GenerateKernelsInBackground = false;   // as Engines.Configure: the paired and memory runs measure steady state from their first pass
if (mode.Check) return EquivalenceCheck.Run();
if (mode.Peak) return MachinePeak.Run();
if (mode.Memory) return MemoryReport.Run();
if (mode.Paired) return PairedFloorFraction.Run();

IConfig config = DefaultConfig.Instance;
if (mode.Quick || mode.InProcess)
{
    // --quick: one launch, 3 warm-up and 3 measured iterations per case (BenchmarkDotNet's ShortRun): minutes, not hours.
    var job = (mode.Quick ? Job.ShortRun : Job.Default).WithId(mode.Quick ? "Quick" : "Default");
    // --inprocess: no generated child project (no second build, no second copy of libtorch); less isolation.
    if (mode.InProcess) job = job.WithToolchain(InProcessEmitToolchain.Instance);
    config = config.AddJob(job.AsDefault());
}
BenchmarkSwitcher.FromAssembly(typeof(Selection).Assembly).Run(rest, config);
return 0;
