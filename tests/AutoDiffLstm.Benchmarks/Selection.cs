namespace AutoDiffLstm.Benchmarks;

/// <summary>This program's own switches: see README.md.</summary>
internal sealed record ProgramMode(bool Quick, bool Check, bool Peak, bool InProcess, bool Memory = false, bool Paired = false);

/// <summary>
/// Which parameter values the benchmark classes enumerate, narrowed by this program's own flags (--workloads,
/// --threads, --shapes). BenchmarkDotNet reads these in the host process only; each generated child process receives
/// its single value as a literal.
/// </summary>
internal static class Selection
{
    public static Workload[] Workloads { get; set; } = Enum.GetValues<Workload>();
    public static int[] Threads { get; set; } = [1, 2];
    public static MatMulShape[] Shapes { get; set; } = Enum.GetValues<MatMulShape>();

    /// <summary>Removes this program's flags from <paramref name="args"/> and applies them; the rest go to BenchmarkDotNet.</summary>
    public static string[] Consume(string[] args, out ProgramMode mode)
    {
        var rest = new List<string>();
        mode = new ProgramMode(false, false, false, false);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Arguments: {args[i]} needs a comma-separated value.");
            switch (args[i])
            {
                case "--quick": mode = mode with { Quick = true }; break;
                case "--check": mode = mode with { Check = true }; break;
                case "--peak": mode = mode with { Peak = true }; break;
                case "--memory": mode = mode with { Memory = true }; break;
                case "--paired": mode = mode with { Paired = true }; break;
                case "--inprocess": mode = mode with { InProcess = true }; break;
                case "--workloads": Workloads = ParseList<Workload>(Value(), "--workloads"); break;
                case "--shapes": Shapes = ParseList<MatMulShape>(Value(), "--shapes"); break;
                case "--threads":
                    Threads = Value().Split(',').Select(s => int.TryParse(s, out int n) && n > 0 ? n
                        : throw new ArgumentException($"Arguments: --threads expects positive integers, got '{s}'.")).ToArray();
                    break;
                default: rest.Add(args[i]); break;
            }
        }
        return [.. rest];
    }

    private static TEnum[] ParseList<TEnum>(string text, string flag) where TEnum : struct, Enum =>
        text.Split(',').Select(s => Enum.TryParse<TEnum>(s, ignoreCase: true, out var v) ? v
            : throw new ArgumentException($"Arguments: {flag} got '{s}'; expected some of {string.Join(", ", Enum.GetNames<TEnum>())}.")).ToArray();
}
