using System.CommandLine;
using AutoDiffLstm.Notebooks.Cli;

// dotnet run --project src/AutoDiffLstm.Notebooks -- twin notebooks/01-x.ipynb [--check]
//                                                  twin-all [notebooks/] [--check]
// Notebooks themselves run in the .NET Interactive kernel: see notebooks/README.md.
var check = new Option<bool>("--check") { Description = "do not write: fail if the committed twin differs from what would be generated" };
var notebook = new Argument<string>("notebook") { Description = "path of an .ipynb file" };
var folder = new Argument<string>("folder") { Description = "folder of .ipynb files", DefaultValueFactory = _ => "notebooks" };

var twin = new Command("twin", "write (or --check) the file-based twin NN-name.cs of a notebook") { notebook, check };
twin.SetAction(r => NotebookCommands.Twin(r.GetValue(notebook)!, r.GetValue(check), Console.Out));

var twinAll = new Command("twin-all", "write (or --check) the twins of every notebook of a folder") { folder, check };
twinAll.SetAction(r => NotebookCommands.TwinAll(r.GetValue(folder)!, r.GetValue(check), Console.Out));

var root = new RootCommand("Keeps the file-based twins of AutoDiffLstm's Polyglot (.NET Interactive) C# notebooks in sync with them.")
{
    twin, twinAll,
};
return root.Parse(args).Invoke();
