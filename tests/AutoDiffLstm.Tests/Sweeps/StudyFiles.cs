using AutoDiffLstm.Experiments.Sweeps;

namespace AutoDiffLstm.Tests.Sweeps;

/// <summary>Small study files for the sweep tests: runs of a few steps on tiny networks (about a second each).</summary>
internal static class StudyFiles
{
    /// <summary>Two cells x two random settings x two seeds = 8 runs of 12 steps.</summary>
    public const string Tiny = """
        {
          "name": "tiny",
          "options": { "task": "adding", "seq-len": 6, "batch": 4, "steps": 12, "eval-every": 4 },
          "grid": { "cell": ["lstm", "gru"] },
          "random": { "samples": 2, "sampler-seed": 3, "space": { "lr": { "log-uniform": [1e-3, 1e-1] }, "hidden": { "int-range": [4, 8] } } },
          "seeds": [1, 2]
        }
        """;

    /// <summary>Two cells x one random setting x two seeds = 4 runs of 12 steps.</summary>
    public const string Small = """
        {
          "name": "small",
          "options": { "task": "adding", "seq-len": 6, "batch": 4, "steps": 12, "eval-every": 4, "hidden": 5 },
          "grid": { "cell": ["lstm", "gru"] },
          "random": { "samples": 1, "space": { "lr": { "log-uniform": [1e-3, 1e-1] } } },
          "seeds": [1, 2]
        }
        """;

    /// <summary>The study's results and figure data: every gathered file that must not depend on the backend.</summary>
    public static Dictionary<string, byte[]> Gathered(string studyDir) =>
        new[] { "results.csv", "results.md", "summary.csv", "importance.csv" }.Select(f => Path.Combine(studyDir, f))
            .Concat(Directory.GetFiles(Path.Combine(studyDir, "figures"), "*.csv"))
            .ToDictionary(f => Path.GetRelativePath(studyDir, f), File.ReadAllBytes);

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> and returns the path.</summary>
    public static string Write(string path, string text)
    {
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The study's plan, validated as <c>adl sweep</c> validates it.</summary>
    public static StudyPlan Plan(string path) => AutoDiffLstm.Cli.Commands.SweepCommand.Plan(path);
}
