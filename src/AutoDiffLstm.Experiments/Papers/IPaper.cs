namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// A reproducible write-up: it runs its experiments and registers, through the <see cref="PaperContext"/>, every figure,
/// table and number its Markdown quotes. The prose lives in papers/&lt;id&gt;/paper.md; only the generated blocks there
/// are rewritten.
/// </summary>
public interface IPaper
{
    /// <summary>Lower-case id, also the folder name under papers/ (e.g. "gradient-flow").</summary>
    string Id { get; }

    /// <summary>The title.</summary>
    string Title { get; }

    /// <summary>Runs the experiments at <see cref="PaperContext.Scale"/> and registers their outputs. The same items must be registered at every scale.</summary>
    void Run(PaperContext context);
}
