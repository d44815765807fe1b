using System.Runtime.CompilerServices;

namespace AutoDiffLstm.Tests;

/// <summary>Process-wide settings of the test run, made before any test.</summary>
internal static class TestSettings
{
    /// <summary>
    /// Generated kernels are made before the first pass that uses them, not in the background while it runs
    /// instruction by instruction (the library's default, see <see cref="FusedGroup{T}.KernelIfReady"/>): a test that
    /// compares a kernel with the interpreter must run the kernel from its first pass. GroupKernelTests turns the
    /// background on where that is what it tests.
    /// </summary>
#pragma warning disable CA2255 // a test assembly's one-time setup, not a library's
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void GenerateKernelsBeforeTheFirstPass() => Compiler.GenerateKernelsInBackground = false;
}
