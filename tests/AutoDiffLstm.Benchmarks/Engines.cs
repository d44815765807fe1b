using AutoDiffLstm.Benchmarks.TorchSharpSetup;
using TorchSharp;

namespace AutoDiffLstm.Benchmarks;

/// <summary>Puts both engines into a benchmark's configuration. Call before anything touches TorchSharp.</summary>
internal static class Engines
{
    /// <summary>Makes libtorch loadable (see <see cref="LibTorchSharpFix"/>) and gives both engines the same thread count.</summary>
    public static void Configure(int threads)
    {
        LibTorchSharpFix.EnsureApplied(Console.Out);
        torch.set_num_threads(threads);        // libtorch's intra-op pool (OpenMP)
        Parallelism.MaxThreads = threads;             // our matrix products; every other kernel of ours is single-threaded
        Compiler.GenerateKernelsInBackground = false; // steady state from the first pass: no measured pass runs while its kernels are generated beside it
    }
}
