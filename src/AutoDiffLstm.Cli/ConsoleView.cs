using AutoDiffLstm.Experiments.Training;
using Spectre.Console;

namespace AutoDiffLstm.Cli;

/// <summary>
/// Console output: Spectre.Console tables, and for long runs a live progress bar (loss, gradient norm, speed) when the
/// output is an interactive terminal, or one plain line every few steps when it is redirected (logs, CI, tests).
/// </summary>
internal sealed class ConsoleView
{
    private readonly IAnsiConsole console;
    private readonly TextWriter writer;

    public ConsoleView(TextWriter writer)
    {
        this.writer = writer;
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        Interactive = terminal;
        console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!terminal) console.Profile.Width = 160;
    }

    /// <summary>True when a live progress bar can be drawn.</summary>
    public bool Interactive { get; }

    public void Line(string text) => writer.WriteLine(text);

    public void Table(string title, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = new Table { Title = new TableTitle(title) };
        foreach (var h in headers) table.AddColumn(new TableColumn(Markup.Escape(h)));
        foreach (var r in rows) table.AddRow(r.Select(Markup.Escape).ToArray());
        console.Write(table);
    }

    /// <summary>Runs <paramref name="work"/> with a step callback that drives a progress bar or prints plain lines.</summary>
    public TResult WithProgress<TResult>(string label, int totalSteps, Func<Action<string, StepRecord>, TResult> work)
    {
        if (!Interactive)
        {
            int every = Math.Max(1, totalSteps / 10);
            return work((run, s) =>
            {
                if (s.Step % every == 0 || s.Step == 1 || s.Step == totalSteps)
                    writer.WriteLine(FormattableString.Invariant($"{run} step {s.Step}/{totalSteps}: loss {s.Loss:G4}, grad norm {s.GradNorm:G3}, {1 / Math.Max(s.Seconds, 1e-9):F1} steps/s"));
            });
        }
        TResult result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = work((run, s) =>
                {
                    if (!tasks.TryGetValue(run, out var task)) tasks[run] = task = ctx.AddTask(Markup.Escape(run), maxValue: totalSteps);
                    task.Value = s.Step;
                    task.Description = Markup.Escape(FormattableString.Invariant($"{run}: loss {s.Loss:G4} |g| {s.GradNorm:G3} {1 / Math.Max(s.Seconds, 1e-9):F0} it/s"));
                });
            });
        return result;
    }
}
