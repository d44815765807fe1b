namespace AutoDiffLstm.Experiments.Sweeps;
public static class StudyImportance
{
    public static IReadOnlyList<(string Option, double Fraction)>? Write(StudyPlan plan, IReadOnlyList<StudyRow> rows, string dir, List<string> files) => null;
}
