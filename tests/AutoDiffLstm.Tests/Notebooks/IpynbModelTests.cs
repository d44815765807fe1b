using System.Text.Json;
using System.Text.Json.Nodes;
using AutoDiffLstm.Notebooks.Ipynb;

namespace AutoDiffLstm.Tests.Notebooks;

public class IpynbModelTests
{
    // What Polyglot Notebooks writes for a C# notebook (dotnet/interactive: metadataUtilities.ts and the C# kernelspec of
    // `dotnet interactive jupyter install`; VS Code adds language_info).
    private const string PolyglotNotebook = """
        {
         "cells": [
          {
           "cell_type": "markdown",
           "metadata": {},
           "source": [
            "# Title\n",
            "Some *prose* with ünïcode and <html>."
           ]
          },
          {
           "cell_type": "code",
           "execution_count": 3,
           "metadata": {
            "dotnet_interactive": {
             "language": "csharp"
            },
            "polyglot_notebook": {
             "kernelName": "csharp"
            },
            "vscode": {
             "languageId": "polyglot-notebook"
            }
           },
           "outputs": [
            {
             "name": "stdout",
             "output_type": "stream",
             "text": [
              "hello\n",
              "world\n"
             ]
            },
            {
             "data": {
              "image/png": "iVBORw0KGgo=",
              "text/plain": [
               "a figure"
              ]
             },
             "metadata": {},
             "output_type": "display_data"
            },
            {
             "data": {
              "application/json": {
               "k": 1
              },
              "text/plain": [
               "42"
              ]
             },
             "execution_count": 3,
             "metadata": {},
             "output_type": "execute_result"
            },
            {
             "ename": "System.Exception",
             "evalue": "boom",
             "output_type": "error",
             "traceback": [
              "at A",
              "at B"
             ]
            }
           ],
           "source": [
            "var x = 1;\n",
            "x + 41"
           ]
          }
         ],
         "metadata": {
          "kernelspec": {
           "display_name": ".NET (C#)",
           "language": "C#",
           "name": ".net-csharp"
          },
          "language_info": {
           "name": "polyglot-notebook"
          },
          "polyglot_notebook": {
           "kernelInfo": {
            "defaultKernelName": "csharp",
            "items": [
             {
              "aliases": [],
              "name": "csharp"
             }
            ]
           }
          }
         },
         "nbformat": 4,
         "nbformat_minor": 2
        }

        """;

    [Fact]
    public void ANotebookInTheEditorsFormatIsWrittenBackByteForByte()
    {
        var doc = NotebookDocument.Parse(PolyglotNotebook.ReplaceLineEndings("\n"));
        Assert.Equal(PolyglotNotebook.ReplaceLineEndings("\n"), doc.ToJson());
    }

    [Fact]
    public void CellsAndOutputsAreReadIntoTheModel()
    {
        var doc = NotebookDocument.Parse(PolyglotNotebook);
        Assert.Equal(2, doc.Cells.Count);
        Assert.Equal(CellType.Markdown, doc.Cells[0].Type);
        Assert.Equal("# Title\nSome *prose* with ünïcode and <html>.", doc.Cells[0].Source);

        var code = doc.Cells[1];
        Assert.Equal(CellType.Code, code.Type);
        Assert.Equal("var x = 1;\nx + 41", code.Source);
        Assert.Equal(3, code.ExecutionCount);
        Assert.Equal("csharp", PolyglotMetadata.CellKernel(code.Metadata, doc.DefaultKernel));

        var stream = Assert.IsType<StreamOutput>(code.Outputs[0]);
        Assert.Equal(("stdout", "hello\nworld\n"), (stream.Name, stream.Text));
        var display = Assert.IsType<DisplayOutput>(code.Outputs[1]);
        Assert.False(display.IsExecuteResult);
        Assert.Equal("iVBORw0KGgo=", display.Data["image/png"]);
        var result = Assert.IsType<DisplayOutput>(code.Outputs[2]);
        Assert.Equal(3, result.ExecutionCount);
        Assert.Equal("42", result.Data["text/plain"]);
        Assert.Equal(1, result.JsonData["application/json"]!["k"]!.GetValue<int>());
        var error = Assert.IsType<ErrorOutput>(code.Outputs[3]);
        Assert.Equal(("System.Exception", "boom"), (error.Name, error.Value));
        Assert.Equal(["at A", "at B"], error.Traceback);
    }

    [Fact]
    public void ANewCSharpNotebookHasThePolyglotMetadata()
    {
        var doc = NotebookDocument.CreateCSharp();
        doc.Cells.Add(NotebookCell.Markdown("# Title\nSome *prose* with ünïcode and <html>."));
        doc.Cells.Add(NotebookCell.Code("var x = 1;"));
        var written = JsonNode.Parse(doc.ToJson())!;
        var expected = JsonNode.Parse(PolyglotNotebook)!;

        Assert.True(JsonNode.DeepEquals(expected["metadata"], written["metadata"]), written["metadata"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(expected["cells"]![0], written["cells"]![0]));
        var cell = written["cells"]![1]!;
        Assert.Equal("csharp", cell["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
        Assert.Equal("csharp", cell["metadata"]!["dotnet_interactive"]!["language"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.Null, cell["execution_count"]?.GetValueKind() ?? JsonValueKind.Null);
        Assert.Empty(cell["outputs"]!.AsArray());
        Assert.Equal(4, written["nbformat"]!.GetValue<int>());
    }

    [Fact]
    public void SourceMayBeOneStringAndUnknownPropertiesSurvive()
    {
        const string json = """
            {"nbformat": 4, "nbformat_minor": 5, "metadata": {"zeta": 1, "alpha": {"b": 2, "a": 1}}, "extra": true,
             "cells": [{"cell_type": "markdown", "id": "abc", "metadata": {}, "source": "one\ntwo\n",
                        "attachments": {"x.png": {"image/png": "AAAA"}}},
                       {"cell_type": "raw", "metadata": {}, "source": ["raw text"]}]}
            """;
        var doc = NotebookDocument.Parse(json);
        Assert.Equal("one\ntwo\n", doc.Cells[0].Source);
        Assert.Equal("abc", doc.Cells[0].Id);
        Assert.Equal(CellType.Raw, doc.Cells[1].Type);

        var again = JsonNode.Parse(doc.ToJson())!;
        Assert.Equal(["one\n", "two\n"], again["cells"]![0]!["source"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("AAAA", again["cells"]![0]!["attachments"]!["x.png"]!["image/png"]!.GetValue<string>());
        Assert.True(again["extra"]!.GetValue<bool>());
        Assert.Equal(5, again["nbformat_minor"]!.GetValue<int>());
        // Keys are sorted at every level, as VS Code writes them.
        Assert.Equal(["alpha", "zeta"], again["metadata"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["a", "b"], again["metadata"]!["alpha"]!.AsObject().Select(p => p.Key));
    }

    [Theory]
    [InlineData("""{"nbformat": 3, "cells": []}""", "nbformat is 3")]
    [InlineData("""{"cells": []}""", "nbformat is missing")]
    [InlineData("""{"nbformat": 4}""", "'cells' is missing")]
    [InlineData("""{"nbformat": 4, "cells": [{"cell_type": "heading", "source": ""}]}""", "cell 0 has cell_type 'heading'")]
    [InlineData("""{"nbformat": 4, "cells": [{"cell_type": "code", "source": [1, 2]}]}""", "cell 0 source must be a string or a list of strings")]
    [InlineData("""{"nbformat": 4, "cells": [""", "not valid JSON")]
    [InlineData("""{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "name": 1}]}]}""", "cell 0 is malformed")]
    public void MalformedNotebooksAreRejectedWithTheReason(string json, string reason)
    {
        var e = Assert.Throws<NotebookFormatException>(() => NotebookDocument.Parse(json, "bad.ipynb"));
        Assert.StartsWith("bad.ipynb: ", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void SaveReplacesTheFileAndLeavesNoTemporaryFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("n.ipynb");
        File.WriteAllText(path, "old content");
        var doc = NotebookDocument.CreateCSharp();
        doc.Cells.Add(NotebookCell.Code("1 + 1"));
        doc.Save(path);
        Assert.Equal(doc.ToJson(), File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder.Path));
    }
}
