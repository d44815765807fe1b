using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AutoDiffLstm.Notebooks.Cells;

/// <summary>
/// A cell's final expression written without a semicolon (<c>loss.Item()</c>): the kernel shows its value as the cell's
/// result, and the twin turns it into <c>display(...);</c>, unless the expression is void.
/// </summary>
public static class TrailingExpression
{
    /// <summary>Parse options of notebook cells (C# script).</summary>
    public static CSharpParseOptions ScriptParseOptions { get; } = new(LanguageVersion.Latest, kind: SourceCodeKind.Script);

    /// <summary>The trailing expression statement of a parsed cell, or null when the cell ends with a statement or declaration.</summary>
    public static ExpressionStatementSyntax? Find(CompilationUnitSyntax unit) =>
        unit.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax e } && e.SemicolonToken.IsMissing ? e : null;

    /// <summary>Parses a cell as script.</summary>
    public static CompilationUnitSyntax Parse(string code) =>
        (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(code, ScriptParseOptions).GetRoot();

    /// <summary>
    /// True when the trailing expression of the last submission of <paramref name="compilation"/> has type void (then
    /// there is no value to show). Unknown types (the cell does not compile) count as values.
    /// </summary>
    public static bool IsVoid(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.LastOrDefault();
        if (tree is null || Find((CompilationUnitSyntax)tree.GetRoot()) is not { } statement) return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type?.SpecialType == SpecialType.System_Void;
    }
}
