using System.Numerics;

namespace AutoDiffLstm.Tasks;

/// <summary>All generated tasks by name, for command lines and experiment configs.</summary>
public static class TaskRegistry
{
    /// <summary>The valid task names.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [AddingProblem<double>.TaskName, CopyMemory<double>.TaskName, TemporalOrder<double>.TaskName, CharLanguageModel<double>.TaskName,
         SelectiveCopying<double>.TaskName, AssociativeRecall<double>.TaskName];

    /// <summary>
    /// Creates the task called <paramref name="name"/> (case-insensitive) with length parameter <paramref name="sequenceLength"/>
    /// (the number of steps, except for "copy" where it is the delay T and a sequence has T + 20 steps).
    /// Unknown names throw an <see cref="ArgumentException"/> listing the valid ones.
    /// </summary>
    public static ISequenceTask<T> Create<T>(string name, int sequenceLength) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            AddingProblem<T>.TaskName => new AddingProblem<T>(sequenceLength),
            CopyMemory<T>.TaskName => new CopyMemory<T>(sequenceLength),
            TemporalOrder<T>.TaskName => new TemporalOrder<T>(sequenceLength),
            CharLanguageModel<T>.TaskName => new CharLanguageModel<T>(sequenceLength),
            SelectiveCopying<T>.TaskName => new SelectiveCopying<T>(sequenceLength),
            AssociativeRecall<T>.TaskName => new AssociativeRecall<T>(sequenceLength),
            _ => throw new ArgumentException($"Unknown task '{name}'. Valid tasks: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    /// <summary>Whether <paramref name="name"/> is a registered task (case-insensitive).</summary>
    public static bool Contains(string name) => name is not null && Names.Contains(name.Trim().ToLowerInvariant());
}
