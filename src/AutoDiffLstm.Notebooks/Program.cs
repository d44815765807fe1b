using System.CommandLine;
using AutoDiffLstm.Experiments.Notebooks;
using AutoDiffLstm.Notebooks.Cli;

// dotnet run --project src/AutoDiffLstm.Notebooks -- run notebooks/01-x.ipynb [--write-outputs] [--scale ci]
//                                                  run-all notebooks/ [--write-outputs] [--scale ci]
//                                                  twin notebooks/01-x.ipynb [--check]
//                                                  twin-all [notebooks/] [--check]
var writeOutputs = new Option<bool>("--write-outputs") { Description = "save the notebook with the fresh outputs (atomically; only after a successful run)" };
var scale = new Option<string?>("--scale") { Description = $"'full' or 'ci' (reduced sizes); default: {Notebook.ScaleVariable}, else full" };
scale.AcceptOnlyFromAmong("full", "ci");
var check = new Option<bool>("--check") { Description = "do not write: fail if the committed twin differs from what would be generated" };
var notebook = new Argument<string>("notebook") { Description = "path of an .ipynb file" };
var folder = new Argument<string>("folder") { Description = "folder of .ipynb files", DefaultValueFactory = _ => "notebooks" };

var run = new Command("run", "run a notebook's C# cells in order, as the kernel would") { notebook, writeOutputs, scale };
run.SetAction(r => NotebookCommands.Run(r.GetValue(notebook)!, r.GetValue(writeOutputs), ScaleOf(r.GetValue(scale)), Console.Out));

var runAll = new Command("run-all", "run every notebook of a folder") { folder, writeOutputs, scale };
runAll.SetAction(r => NotebookCommands.RunAll(r.GetValue(folder)!, r.GetValue(writeOutputs), ScaleOf(r.GetValue(scale)), Console.Out));

var twin = new Command("twin", "write (or --check) the file-based twin NN-name.cs of a notebook") { notebook, check };
twin.SetAction(r => NotebookCommands.Twin(r.GetValue(notebook)!, r.GetValue(check), Console.Out));

var twinAll = new Command("twin-all", "write (or --check) the twins of every notebook of a folder") { folder, check };
twinAll.SetAction(r => NotebookCommands.TwinAll(r.GetValue(folder)!, r.GetValue(check), Console.Out));

var root = new RootCommand("Runs AutoDiffLstm's Polyglot (.NET Interactive) C# notebooks and keeps their file-based twins in sync.")
{
    run, runAll, twin, twinAll,
};
return root.Parse(args).Invoke();

static NotebookScale? ScaleOf(string? text) => text is null ? null : Notebook.ParseScale(text);
