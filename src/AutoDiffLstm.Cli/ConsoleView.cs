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

    /// <summary>
    /// Runs <paramref name="work"/> with a step callback that drives a progress bar or prints plain lines (at step 1,
    /// every tenth of the run, at the end, and at least every 10 seconds). The speed shown is the run's average so far,
    /// steps done / their summed time, the same measure as the summary's steps/s
    /// (<see cref="TrainingResult.StepsPerSecond"/>): one step's own rate, sampled every tenth of the run, jumped with
    /// every pause of the machine and disagreed with the table at the end.
    /// </summary>
    public TResult WithProgress<TResult>(string label, int totalSteps, Func<Action<string, StepRecord>, TResult> work)
    {
        var speeds = new Dictionary<string, (int Steps, double Seconds)>();
        double Speed(string run, StepRecord s)
        {
            var (n, seconds) = speeds.GetValueOrDefault(run);
            speeds[run] = (n + 1, seconds + s.Seconds);
            return (n + 1) / Math.Max(seconds + s.Seconds, 1e-9);
        }
        if (!Interactive)
        {
            int every = Math.Max(1, totalSteps / 10);
            var sinceLine = System.Diagnostics.Stopwatch.StartNew();
            return work((run, s) =>
            {
                double speed = Speed(run, s);
                if (s.Step % every == 0 || s.Step == 1 || s.Step == totalSteps || sinceLine.Elapsed.TotalSeconds >= 10)
                {
                    writer.WriteLine(FormattableString.Invariant($"{run} step {s.Step}/{totalSteps}: loss {s.Loss:G4}, grad norm {s.GradNorm:G3}, {speed:F1} steps/s"));
                    writer.Flush();
                    sinceLine.Restart();
                }
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
                    task.Description = Markup.Escape(FormattableString.Invariant($"{run}: loss {s.Loss:G4} |g| {s.GradNorm:G3} {Speed(run, s):F1} steps/s"));
                });
            });
        return result;
    }
}
