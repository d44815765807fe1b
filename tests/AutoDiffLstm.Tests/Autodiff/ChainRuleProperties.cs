using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// The chain rule over random compositions: whatever the nesting, fan-out and broadcasting of the primitives, reverse
/// mode must agree with central differences in double. Failing cases shrink to a small expression on small shapes.
/// </summary>
public class ChainRuleProperties
{
    [Property(MaxTest = 300)]
    public Property RandomCompositionsOfPrimitivesPassGradCheck() =>
        Prop.ForAll(ChainCases.Arbitrary(), c =>
        {
            var report = GradCheck.Check<double>(v => c.Tree.Evaluate(v), c.MakeInputs());
            Assert.True(report.Passed, $"{c}\n{report}");
        });

    [Fact]
    public void GeneratedCasesCoverEveryNodeKindAndBroadcastInputs()
    {
        // Guards the generator itself (fixed seed): a property over cases that never contain an operator tests nothing about it.
        var cases = ChainCases.Arbitrary().Generator.Sample(300, new Rnd(2024), 100);
        var seen = new HashSet<string>();
        void Visit(Expr e)
        {
            switch (e)
            {
                case UnaryExpr u: seen.Add(u.Op.ToString()); Visit(u.Arg); break;
                case BinaryExpr b: seen.Add(b.Op.ToString()); Visit(b.Left); Visit(b.Right); break;
            }
        }
        foreach (var c in cases) Visit(c.Tree);
        Assert.Equal(Enum.GetNames<UnaryOp>().Concat(Enum.GetNames<BinaryOp>()).Order(), seen.Order());
        Assert.Contains(cases, c => c.Inputs.Length > 1 && c.Inputs.Any(s => s.Ones.Any(o => o) || s.Rank < c.Frame.Length));
    }

    [Fact]
    public void ShrinkingReachesSmallerExpressionsAndShapes()
    {
        var big = new ChainCase([3, 2], [new InputShape([false, true]), new InputShape([false])],
            new BinaryExpr(BinaryOp.Multiply, new UnaryExpr(UnaryOp.Softmax, 1, new InputExpr(1)), new InputExpr(0)), 5);
        var smaller = big.Shrink().ToList();
        Assert.Contains(smaller, c => c.Tree == new InputExpr(0));
        Assert.Contains(smaller, c => c.Frame.SequenceEqual([2]));
        Assert.Contains(smaller, c => c.Frame.SequenceEqual([2, 2]));
        Assert.Contains(smaller, c => c.Inputs.Length == 1 && c.Tree.MaxInput == 0);
    }
}
