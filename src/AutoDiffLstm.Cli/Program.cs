using System.CommandLine;
var root = new RootCommand("test");
var o = new Option<int>("--hidden") { Description = "hidden size", DefaultValueFactory = _ => 32 };
var c = new Command("demo", "demo cmd");
c.Options.Add(o);
c.SetAction(pr => { Console.WriteLine(pr.GetValue(o)); return 0; });
root.Subcommands.Add(c);
return root.Parse(args).Invoke();
