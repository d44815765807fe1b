namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// Hyper-parameter importance of a study (issue #21: functional ANOVA over a random-forest surrogate, Hutter et al.
/// 2014). NOT IMPLEMENTED YET: <see cref="Write"/> computes nothing and returns null, so <c>adl sweep</c> shows no
/// importance table. It is the place the analysis goes.
/// </summary>
public static class StudyImportance
{
    /// <summary>Returns null: the analysis is not implemented yet (see the class remarks).</summary>
    public static IReadOnlyList<(string Option, double Fraction)>? Write(StudyPlan plan, IReadOnlyList<StudyRow> rows, string dir, List<string> files) => null;
}
