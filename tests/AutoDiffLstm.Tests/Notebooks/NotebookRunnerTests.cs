using System.Text.Json.Nodes;
using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Cli;
using AutoDiffLstm.Notebooks.Ipynb;
using AutoDiffLstm.Notebooks.Running;

namespace AutoDiffLstm.Tests.Notebooks;

/// <summary>Runs small notebooks through Roslyn; one runner for the class (the first compilation pays Roslyn's start-up).</summary>
public class NotebookRunnerTests
{
    private static readonly NotebookRunner Runner = new();

    private static NotebookRunResult Run(NotebookDocument doc, NotebookScale scale = NotebookScale.Full) =>
        Runner.Run(doc, new NotebookRunOptions { Scale = scale });

    [Fact]
    public void CellsShareStateAndEachGetsItsOwnOutputs()
    {
        var doc = NotebookTestFiles.Build(
            "md:# Shared state",
            "var x = Tensor.Scalar(3.0).RequireGrad();\nint Twice(int n) => 2 * n;\nConsole.WriteLine(\"first\");",
            "record Pair(int A, int B);",
            "var y = x * x;\ny.Backward();\nConsole.Write(\"grad \");\nConsole.WriteLine(x.Grad!.Item());\nvar p = new Pair(Twice(2), 5);",
            "Console.Error.WriteLine(\"to stderr\");\np.A + p.B");
        var result = Run(doc);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var cells = result.Notebook.Cells;
        Assert.Equal([1, 2, 3, 4], cells.Skip(1).Select(c => c.ExecutionCount!.Value));
        Assert.Equal([new StreamOutput("stdout", "first\n")], cells[1].Outputs);
        Assert.Empty(cells[2].Outputs);
        Assert.Equal([new StreamOutput("stdout", "grad 6\n")], cells[3].Outputs);
        Assert.Equal(2, cells[4].Outputs.Count);
        Assert.Equal(new StreamOutput("stderr", "to stderr\n"), cells[4].Outputs[0]);
        var value = Assert.IsType<DisplayOutput>(cells[4].Outputs[1]);
        Assert.Equal(4, value.ExecutionCount);
        Assert.Equal("9", value.Data["text/plain"]);
        // The input notebook is not modified.
        Assert.All(doc.Cells.Where(c => c.Type == CellType.Code), c => Assert.Empty(c.Outputs));
    }

    [Fact]
    public void DisplayAddsOutputsInOrderWithTheConsoleText()
    {
        var doc = NotebookTestFiles.Build(
            "using AutoDiffLstm.Experiments.Figures;\n" +
            "Console.WriteLine(\"before\");\n" +
            "display(Tensor.FromArray(new[] { 1.0, 2.0 }));\n" +
            "display(new LineFigure(\"t\", \"x\", \"y\", false, [new Series(\"s\", [0.0, 1.0], [1.0, 3.0])]) { Size = (100, 60) });\n" +
            "display(\"<i>html</i>\", \"text/html\");\n" +
            "Console.WriteLine(\"after\");\n" +
            "Console.WriteLine(\"void trailing call\")");
        var result = Run(doc);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var outputs = result.Notebook.Cells[0].Outputs;
        Assert.Equal(5, outputs.Count);
        Assert.Equal(new StreamOutput("stdout", "before\n"), outputs[0]);
        var tensor = Assert.IsType<DisplayOutput>(outputs[1]);
        Assert.False(tensor.IsExecuteResult);
        Assert.Equal(Tensor.FromArray([1.0, 2.0]).ToString(), tensor.Data["text/plain"]);
        var figure = Assert.IsType<DisplayOutput>(outputs[2]);
        var png = Convert.FromBase64String(figure.Data["image/png"]);
        Assert.Equal((100, 60), DisplayFormatter.PngSize(png));
        Assert.Equal("<i>html</i>", Assert.IsType<DisplayOutput>(outputs[3]).Data["text/html"]);
        // A void trailing expression has no value to show: no execute_result.
        Assert.Equal(new StreamOutput("stdout", "after\nvoid trailing call\n"), outputs[4]);
    }

    [Fact]
    public void ACompilationErrorNamesTheCellAndStopsTheRun()
    {
        var doc = NotebookTestFiles.Build(
            "md:intro",
            "var ok = 1;",
            "#!csharp\nvar bad = ok +\n    undefinedName;",
            "Console.WriteLine(\"never\");");
        var result = Run(doc);

        Assert.False(result.Succeeded);
        var failure = result.Failure!;
        Assert.Equal(2, failure.CellIndex);
        Assert.Equal(2, failure.CodeCellNumber);
        Assert.Equal("#!csharp", failure.FirstLine);
        Assert.Equal(CellErrorKind.Compilation, failure.Kind);
        // The magic line was blanked, not removed, so the position is the line in the cell as the author sees it.
        Assert.Equal("(3,5): error CS0103: The name 'undefinedName' does not exist in the current context", Assert.Single(failure.Details));
        Assert.StartsWith("cell 2 (code cell 2, starting `#!csharp`) does not compile:", failure.ToString());

        var error = Assert.IsType<ErrorOutput>(Assert.Single(result.Notebook.Cells[2].Outputs));
        Assert.Equal("Compilation error", error.Name);
        Assert.Contains("CS0103", error.Value);
        Assert.Empty(result.Notebook.Cells[3].Outputs);
        Assert.Null(result.Notebook.Cells[3].ExecutionCount);
        Assert.Equal([true, false], result.Cells.Select(c => c.Succeeded));
    }

    [Fact]
    public void AnExceptionNamesTheCellKeepsEarlierOutputAndClearsLaterCells()
    {
        var doc = NotebookTestFiles.Build(
            "Console.WriteLine(\"fine\");",
            "Console.WriteLine(\"partial\");\nvar t = Tensor.Zeros<double>(2, 3) + Tensor.Zeros<double>(4);",
            "Console.WriteLine(\"never\");");
        doc.Cells[2].Outputs.Add(new StreamOutput("stdout", "stale output from an earlier run\n"));
        doc.Cells[2].ExecutionCount = 9;
        var result = Run(doc);

        var failure = Assert.IsType<CellFailure>(result.Failure);
        Assert.Equal((1, CellErrorKind.Exception), (failure.CellIndex, failure.Kind));
        Assert.Equal("Console.WriteLine(\"partial\");", failure.FirstLine);
        Assert.IsAssignableFrom<ArgumentException>(failure.Exception);
        Assert.Contains("Add", failure.Message);
        Assert.Contains("[2, 3]", failure.Message);

        var outputs = result.Notebook.Cells[1].Outputs;
        Assert.Equal(new StreamOutput("stdout", "partial\n"), outputs[0]);
        var error = Assert.IsType<ErrorOutput>(outputs[1]);
        Assert.Equal(failure.Exception!.GetType().FullName, error.Name);
        // Cells are compiled with their index as file name, so the trace says where in the notebook it was thrown.
        Assert.Contains(error.Traceback, line => line.EndsWith("in cell 1:line 2", StringComparison.Ordinal));
        Assert.Empty(result.Notebook.Cells[2].Outputs);
        Assert.Null(result.Notebook.Cells[2].ExecutionCount);
    }

    [Fact]
    public void UnsupportedMagicsFailTheirCellBeforeRunningIt()
    {
        var doc = NotebookTestFiles.Build("Console.WriteLine(\"runs\");", "#r \"nuget: Newtonsoft.Json\"\nConsole.WriteLine(\"never\");");
        var result = Run(doc);
        var failure = Assert.IsType<CellFailure>(result.Failure);
        Assert.Equal((1, CellErrorKind.Unsupported), (failure.CellIndex, failure.Kind));
        Assert.Contains("NuGet references are not supported", failure.Message);
        Assert.Equal([new StreamOutput("stdout", "runs\n")], result.Notebook.Cells[0].Outputs);
    }

    [Fact]
    public void CellsForOtherKernelsAreNotRun()
    {
        var doc = NotebookTestFiles.Build("Console.WriteLine(\"runs\");", "printfn \"hello\"");
        doc.Cells[1].Metadata = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "fsharp" } };
        var failure = Assert.IsType<CellFailure>(Run(doc).Failure);
        Assert.Equal((1, CellErrorKind.Unsupported), (failure.CellIndex, failure.Kind));
        Assert.Equal("the cell is for kernel 'fsharp'; only C# cells can run", failure.Message);
    }

    [Fact]
    public void TheScaleOptionReachesTheNotebook()
    {
        var doc = NotebookTestFiles.Build("using AutoDiffLstm.Experiments.Notebooks;\nNotebook.Scale(full: 1000, ci: 50)");
        string Value(NotebookScale scale) => ((DisplayOutput)Run(doc, scale).Notebook.Cells[0].Outputs.Single()).Data["text/plain"];
        Assert.Equal("50", Value(NotebookScale.Ci));
        Assert.Equal("1000", Value(NotebookScale.Full));
    }

    [Fact]
    public void RunningWithWriteOutputsRewritesOnlyOutputsAndLeavesAFailedNotebookAlone()
    {
        using var folder = new TempFolder();
        string path = folder.File("01-sample.ipynb");
        var doc = NotebookTestFiles.Build("md:# Title\n\nProse with `code`, ünïcode and $x^2$.", "Console.WriteLine(6 * 7);", "md:More prose.", "\"done\"");
        doc.Cells[0].Metadata["custom"] = "kept";
        doc.Save(path);
        var before = JsonNode.Parse(File.ReadAllText(path))!;
        var log = new StringWriter();

        Assert.Equal(0, NotebookCommands.Run(path, writeOutputs: true, NotebookScale.Ci, log));

        var after = JsonNode.Parse(File.ReadAllText(path))!; // valid JSON
        Assert.Equal([path], Directory.GetFiles(folder.Path)); // the temporary file was moved into place
        Assert.True(JsonNode.DeepEquals(before["metadata"], after["metadata"]));
        Assert.Equal(".net-csharp", after["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("C#", after["metadata"]!["kernelspec"]!["language"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(before["cells"]![0], after["cells"]![0]));
        Assert.True(JsonNode.DeepEquals(before["cells"]![2], after["cells"]![2]));
        Assert.True(JsonNode.DeepEquals(before["cells"]![1]!["source"], after["cells"]![1]!["source"]));
        Assert.Equal("42\n", after["cells"]![1]!["outputs"]![0]!["text"]![0]!.GetValue<string>());
        Assert.Equal("execute_result", after["cells"]![3]!["outputs"]![0]!["output_type"]!.GetValue<string>());
        Assert.Contains("outputs written", log.ToString());

        // A failing notebook is reported and its file left exactly as it was.
        var failing = NotebookDocument.Load(path);
        failing.Cells.Add(NotebookCell.Code("throw new InvalidOperationException(\"boom\");"));
        failing.Save(path);
        string unchanged = File.ReadAllText(path);
        var failLog = new StringWriter();
        Assert.Equal(1, NotebookCommands.Run(path, writeOutputs: true, null, failLog));
        Assert.Equal(unchanged, File.ReadAllText(path));
        Assert.Contains("FAILED: cell 4 (code cell 3, starting `throw new InvalidOperationException(\"boom\");`) threw:", failLog.ToString());
        Assert.Contains("System.InvalidOperationException: boom", failLog.ToString());
    }
}
