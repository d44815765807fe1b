using AutoDiffLstm.Tests.Cli;

namespace AutoDiffLstm.Tests.Compile;

/// <summary><c>adl compile</c> prints the traced graph and the fused groups of a cell's step.</summary>
public class CompileCommandTests
{
    [Fact]
    public void PrintsTheLstmStepsGraphAndItsOneFusedGroup()
    {
        var result = CliRun.Expect(0, "compile", "--cell", "lstm", "--hidden", "4", "--batch", "2", "--input-size", "3");
        Assert.Contains("lstm.Step: compiled in", result.Out);
        Assert.Contains("%0 = Linear(in1, c0, c1) [2, 16]", result.Out);
        Assert.Contains("(replayed primitive)", result.Out);
        // Everything after the recurrent product is one group: the add, four slices, four activations and the cell update.
        Assert.Contains("fused group 0: 14 primitives", result.Out);
        Assert.DoesNotContain("fused group 1", result.Out);
        Assert.Contains("= Sigmoid(", result.Out);
    }

    [Fact]
    public void AnUnknownCellIsRefusedByName()
    {
        var result = CliRun.Expect(2, "compile", "--cell", "lstmm");
        Assert.Contains("lstmm", result.Err);
    }
}
