using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoDiffLstm.Benchmarks;

/// <summary>
/// `--peak`: the machine's theoretical floating-point peak, to put measured GFLOP/s in proportion.
/// peak = cores x clock x FLOP per cycle per core, where FLOP per cycle = FMA units x SIMD lanes x 2 (an FMA is a
/// multiply and an add). The clock is /proc/cpuinfo's "cpu MHz" (the nominal clock under a hypervisor: turbo can be
/// higher and heavy AVX-512 code lower). Server Xeons since Skylake-SP and AMD's Zen 5 server cores have two 512-bit FMA
/// units per core (Zen 4 has two 256-bit ones and runs AVX-512 in two halves: half the 512-bit figure); the number of
/// units cannot be read from cpuinfo, so it is an assumption printed with the result.
/// </summary>
internal static class MachinePeak
{
    public static int Run()
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : [];
        string Field(string name) => cpuinfo.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        int cores = Environment.ProcessorCount;
        double ghz = double.TryParse(Field("cpu MHz"), System.Globalization.CultureInfo.InvariantCulture, out double mhz) ? mhz / 1000 : double.NaN;
        var flags = Field("flags").Split(' ').ToHashSet();
        const int fmaUnits = 2;

        Console.WriteLine($"CPU: {CpuName()}, {cores} logical cores visible to .NET, {ghz:F2} GHz (cpu MHz)");
        Console.WriteLine($"flags: avx2={flags.Contains("avx2")} fma={flags.Contains("fma")} avx512f={flags.Contains("avx512f")}");
        Console.WriteLine($".NET: Vector<float>.Count={Vector<float>.Count} (Vector<T> is {Vector<byte>.Count * 8}-bit), Fma={Fma.IsSupported}, Avx512F={Avx512F.IsSupported}, Vector512 accelerated={Vector512.IsHardwareAccelerated}");
        Console.WriteLine($"assumed FMA units per core: {fmaUnits}");
        // Our Gemm's micro-kernel uses Vector512 where it is accelerated (else Vector256), like libtorch's kernels;
        // Vector<T> (256-bit even on AVX-512 machines) is the width of our elementwise kernels.
        foreach (var (label, bits) in new[] { ("AVX-512 (our Gemm's Vector512 path; libtorch's MKL/oneDNN kernels)", 512), ($"Vector<T> width ({Vector<byte>.Count * 8}-bit: our elementwise kernels)", Vector<byte>.Count * 8) })
        {
            if (bits == 512 && !flags.Contains("avx512f")) continue;
            int floatLanes = bits / 32, doubleLanes = bits / 64;
            double perCoreFloat = fmaUnits * floatLanes * 2, perCoreDouble = fmaUnits * doubleLanes * 2;
            Console.WriteLine($"{label}: float {perCoreFloat} FLOP/cycle/core -> {cores} x {ghz:F2} x {perCoreFloat} = {cores * ghz * perCoreFloat:F1} GFLOP/s " +
                              $"({ghz * perCoreFloat:F1} per core); double {cores * ghz * perCoreDouble:F1} GFLOP/s ({ghz * perCoreDouble:F1} per core)");
        }
        return 0;
    }

    /// <summary>The processor's name as /proc/cpuinfo gives it ("?" where there is none).</summary>
    public static string CpuName() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?" : "?";
}
