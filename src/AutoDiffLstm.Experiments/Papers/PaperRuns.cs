using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>Helpers shared by paper definitions.</summary>
public static class PaperRuns
{
    /// <summary>
    /// Trains every configuration, <see cref="Parallelism.MaxThreads"/> at a time (each run records on its own thread's
    /// tape and draws from its own seeded generators, so the results do not depend on the order or the parallelism),
    /// and returns them in the order given. A diverged run keeps what it recorded.
    /// </summary>
    public static IReadOnlyList<LabelledRun> Train(PaperContext context, IReadOnlyList<(string Label, TrainingOptions Options)> runs)
    {
        foreach (var (_, options) in runs) options.Validate();
        var results = new LabelledRun[runs.Count];
        int done = 0;
        Parallel.For(0, runs.Count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism.MaxThreads }, k =>
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            results[k] = TrainingStudy.Run([runs[k]])[0];
            var r = results[k].Result;
            string final = r.Evaluations.Count > 0 ? FormattableString.Invariant($"held-out loss {r.Final.Loss:G4}") : "no evaluation";
            context.Log(FormattableString.Invariant($"  [{Interlocked.Increment(ref done)}/{runs.Count}] {runs[k].Label}: {r.Steps.Count}/{r.Options.Steps} steps, {final}, {watch.Elapsed.TotalSeconds:F1} s"));
        });
        return results;
    }

    /// <summary>
    /// Average change of log10 of <paramref name="norms"/> per step going back from the last element, as
    /// <see cref="Diagnostics.GradientFlowResult.Log10SlopePerStep"/> defines it for h: (log10 n[0] - log10 n[^1]) / (n.Length - 1).
    /// </summary>
    public static double Log10SlopePerStepBack(IReadOnlyList<double> norms)
    {
        if (norms.Count < 2 || !(norms[0] > 0) || !(norms[^1] > 0)) return double.NaN;
        return (Math.Log10(norms[0]) - Math.Log10(norms[^1])) / (norms.Count - 1);
    }

    /// <summary>The median of the finite values (NaN if there are none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
