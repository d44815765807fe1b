namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// The number a study compares its runs by, lower is better: its name in the tables ("loss/chance"), the axis label of
/// the figures, and what a "solved" run is.
/// </summary>
/// <param name="Name">Short name used in table headers ("mean {Name}").</param>
/// <param name="Phrase">The same in running text ("loss / chance").</param>
/// <param name="Axis">Axis label of the figures and the importance analysis.</param>
/// <param name="Definition">One sentence for the Markdown tables: what the number is.</param>
/// <param name="Solved">Header of the count of runs that reach the goal ("solved").</param>
/// <param name="SolvedDefinition">What a solved run is, for the Markdown tables.</param>
public sealed record StudyMetric(string Name, string Phrase, string Axis, string Definition, string Solved, string SolvedDefinition);

/// <summary>
/// What a sweep needs to know about the <c>adl</c> command its runs execute: the arguments the sweep adds to a run's
/// own options, the result file the command leaves in the run folder and how it is read, and the metric the runs are
/// compared by. The backends and the gathering ask this object, so they hold nothing command-specific.
/// </summary>
public abstract class SweptCommand
{
    /// <summary><c>adl train</c>: compared by final held-out loss / chance; checkpointed, so a stopped run resumes.</summary>
    public static SweptCommand Train { get; } = new TrainSweep();

    /// <summary><c>adl gradflow</c>: compared by how fast ||dL/dh_t|| leaves its scale per step back; one curve per run.</summary>
    public static SweptCommand GradFlow { get; } = new GradFlowSweep();

    /// <summary>Every command a study can run.</summary>
    public static IReadOnlyList<SweptCommand> All { get; } = [Train, GradFlow];

    /// <summary>The command called <paramref name="name"/>, or an error listing the ones a study can run.</summary>
    public static SweptCommand Named(string name) => All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"'{name}' cannot be swept; supported: {string.Join(", ", All.Select(c => c.Name))}.");

    /// <summary>The command's name ("train").</summary>
    public abstract string Name { get; }

    /// <summary>Whether a run writes <see cref="RunFolder.CheckpointFile"/> and continues from it (<c>--resume</c>, <c>--checkpoint-every</c>).</summary>
    public abstract bool Resumable { get; }

    /// <summary>The metric the runs are compared by.</summary>
    public abstract StudyMetric Metric { get; }

    /// <summary>The result file the command writes under its <c>--out</c> for <paramref name="run"/>.</summary>
    public abstract string ResultFile(PlannedRun run);

    /// <summary>How often a run with the parsed <paramref name="options"/> writes its checkpoint (0 for a command without checkpoints).</summary>
    public abstract int CheckpointEvery(StudySpec spec, object options);

    /// <summary>
    /// The full argument list of a run's process: the command, the run's options (or <c>--resume</c> from the run's
    /// checkpoint), results to the run's folder as JSON, and its threads.
    /// </summary>
    public abstract IReadOnlyList<string> ProcessArgs(string runDir, PlannedRun run, int threads);

    /// <summary>Reads a finished run (exit code <paramref name="code"/>) from its result file: done, diverged or failed with the reason.</summary>
    public abstract RunOutcome Read(string runDir, PlannedRun run, int code);

    /// <summary>The columns this command adds to results.csv after "status".</summary>
    public abstract IReadOnlyList<string> ResultColumns { get; }

    /// <summary>The sentence under results.md's counts that defines its columns.</summary>
    public abstract string ResultsNote { get; }

    /// <summary>The cells of <see cref="ResultColumns"/> for one run (nulls where there is no result).</summary>
    public abstract IReadOnlyList<object?> ResultCells(StudyRow row);
}
