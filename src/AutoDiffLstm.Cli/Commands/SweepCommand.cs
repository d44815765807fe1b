using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using AutoDiffLstm.Experiments.Output;
using AutoDiffLstm.Experiments.Sweeps;
using AutoDiffLstm.Experiments.Training;
using Spectre.Console;

namespace AutoDiffLstm.Cli.Commands;

/// <summary>
/// <c>sweep &lt;study&gt;</c>: runs a study file's runs (each one <c>adl train</c> or <c>adl gradflow</c> process with its own folder), on this
/// machine or as one Slurm job array, resumes where it stopped, and gathers the results into a table, figures and a
/// hyper-parameter importance analysis.
/// </summary>
internal static class SweepCommand
{
    /// <summary>Exit code when Ctrl-C stopped the study (128 + SIGINT, as shells report it); finished runs are kept.</summary>
    public const int Interrupted = 130;

    public static Command Create(TextWriter stdout)
    {
        var spec = new Argument<string>("study") { Description = "Study file (JSON, or YAML with .yaml/.yml): options as fixed values, cases, grid and random distributions, and seeds (see studies/README.md)" };
        var outDir = new Option<string?>("--out") { Description = "Study folder (default: sweeps/<study name>): runs/<id>/ per run, results.csv/.md, figures/" };
        var jobs = new Option<int?>("--jobs") { Description = "Runs at once on this machine (default: the processors, fewer if memory is short for --memory-per-run)" };
        var memoryPerRun = new Option<int>("--memory-per-run") { Description = "MiB one run may need, to bound the default --jobs and the Slurm --mem", DefaultValueFactory = _ => 1024 };
        var retryFailed = new Option<bool>("--retry-failed") { Description = "Run the failed runs again (by default they are reported and left)" };
        var gatherOnly = new Option<bool>("--gather-only") { Description = "Run nothing: gather the finished runs into the table and figures" };
        var planOnly = new Option<bool>("--plan") { Description = "Run nothing: validate the study and list its runs" };
        var json = CommonOptions.Json();
        var slurm = new Option<bool>("--slurm") { Description = "Submit the pending runs to Slurm as one job array instead of running them here" };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition (sbatch --partition)" };
        var time = new Option<string?>("--time") { Description = "Slurm time limit per run (sbatch --time, e.g. 00:30:00); a run killed at the limit resumes from its checkpoint when the study is submitted again" };
        var cpus = new Option<int>("--cpus-per-task") { Description = "Slurm CPUs per run (sbatch --cpus-per-task; also the run's --threads)", DefaultValueFactory = _ => 1 };
        var mem = new Option<string?>("--mem") { Description = "Slurm memory per run (sbatch --mem, e.g. 2G; default: --memory-per-run)" };
        var sbatchArgs = new Option<string[]>("--sbatch-arg") { Description = "Extra sbatch argument, passed as is (repeat for several, e.g. --sbatch-arg=--account=abc)", AllowMultipleArgumentsPerToken = false };
        var noWait = new Option<bool>("--no-wait") { Description = "With --slurm: submit and return; run the command again (or with --gather-only) to gather" };
        var poll = new Option<double>("--poll-seconds") { Description = "With --slurm: seconds between checks of the job array", DefaultValueFactory = _ => 5 };
        var command = new Command("sweep", "Run a study: many adl train (or gradflow) runs from a study file (grid, random search, seeds), here or on Slurm, resumable, gathered into one table and figures.")
        {
            spec, outDir, jobs, memoryPerRun, retryFailed, gatherOnly, planOnly, json, slurm, partition, time, cpus, mem, sbatchArgs, noWait, poll,
        };
        command.SetAction(r =>
        {
            var plan = Plan(r.GetValue(spec)!);
            string dir = r.GetValue(outDir) ?? Path.Combine("sweeps", plan.Spec.Name);
            var view = new ConsoleView(stdout);
            bool asJson = r.GetValue(json);
            void Say(string line) { if (!asJson) view.Line(line); }
            Say($"Study {plan.Spec.Name}: {plan.Runs.Count} runs ({plan.Spec.Cases.Count} case(s) x {plan.Runs.Select(x => x.GridIndex).Distinct().Count()} grid point(s) x {Math.Max(1, plan.Spec.Samples)} sample(s) x {plan.Spec.Seeds.Count} seed(s)) -> {dir}");
            if (r.GetValue(planOnly))
            {
                if (asJson) stdout.WriteLine(ResultFiles.ToJson(new { study = plan.Spec.Name, runs = plan.Runs.Select(x => new { index = x.Index, id = x.Id, args = x.Args }) }));
                else foreach (var run in plan.Runs) view.Line($"  {run.Index,4} {run.Id}  adl {plan.Spec.Command} {string.Join(' ', run.Args)}");
                return Cli.Ok;
            }
            Directory.CreateDirectory(dir);
            BackendReport? report = null;
            if (!r.GetValue(gatherOnly))
            {
                var adl = ProcessCommand.ForAssembly(typeof(Cli).Assembly.Location);
                using var cancel = new CancellationTokenSource();
                using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });
                if (r.GetValue(slurm))
                {
                    var options = new SlurmOptions(r.GetValue(partition), r.GetValue(time), r.GetValue(cpus), r.GetValue(mem) ?? $"{r.GetValue(memoryPerRun)}M",
                        r.GetValue(sbatchArgs) ?? [], TimeSpan.FromSeconds(r.GetValue(poll)));
                    report = SlurmBackend.Run(plan, dir, adl, options, r.GetValue(retryFailed), !r.GetValue(noWait), Say, cancel.Token);
                }
                else
                {
                    int jobCount = r.GetValue(jobs) ?? LocalBackend.DefaultJobs((long)r.GetValue(memoryPerRun) << 20);
                    report = RunLocally(plan, dir, adl, jobCount, r.GetValue(retryFailed), view, asJson, cancel.Token);
                }
            }
            var rows = StudyResults.Read(plan, dir);
            var files = StudyResults.Write(plan, rows, dir).Concat(StudySummary.Write(plan, rows, dir)).Concat(StudyFigures.Write(plan, rows, dir)).ToList();
            var importance = StudyImportance.Write(plan, rows, dir, files);
            int Count(RunStatus s) => rows.Count(x => x.Outcome.Status == s);
            foreach (var failed in rows.Where(x => x.Outcome.Status == RunStatus.Failed))
                Say($"  failed: run {failed.Run.Index} ({failed.Run.Id}): {failed.Outcome.Problem}");
            if (asJson)
                stdout.WriteLine(ResultFiles.ToJson(new
                {
                    study = plan.Spec.Name, runs = rows.Count, done = Count(RunStatus.Done), diverged = Count(RunStatus.Diverged), failed = Count(RunStatus.Failed),
                    pending = Count(RunStatus.Pending), skipped = report?.Skipped, ran = report?.Ran, interrupted = report?.Cancelled ?? false,
                    importance = importance.Select(c => new
                    {
                        @case = c.Case, problem = c.Problem,
                        effects = c.Result is null ? null : StudyImportance.Reported(c.Result).Select(e => new { effect = e.Effect.Name, kind = e.Kind, fraction = e.Effect.Fraction, spread = e.Effect.Spread }),
                    }),
                    files,
                }));
            else
            {
                Say($"{Count(RunStatus.Done)} done, {Count(RunStatus.Diverged)} diverged, {Count(RunStatus.Failed)} failed, {Count(RunStatus.Pending)} pending of {rows.Count} runs"
                    + (report is null ? "." : $" ({report.Skipped} finished before, {report.Ran} run now)."));
                foreach (var c in importance)
                    if (c.Result is null) Say($"Hyper-parameter importance ({c.Case}): not computed: {c.Problem}");
                    else view.Table($"Hyper-parameter importance, {c.Case} (functional ANOVA over a random forest, {c.Result.Points} runs: share of the variance of loss / chance)",
                        ["effect", "kind", "share", "sd over trees"],
                        StudyImportance.Reported(c.Result).Select(e => (IReadOnlyList<string>)[e.Effect.Name, e.Kind,
                            e.Effect.Fraction.ToString("P1", CultureInfo.InvariantCulture), e.Effect.Spread.ToString("P1", CultureInfo.InvariantCulture)]));
                if (Count(RunStatus.Failed) > 0) Say("Run again with --retry-failed to retry the failed runs.");
                Say("Wrote: " + string.Join(", ", files));
            }
            if (report?.Cancelled == true) { Say("Stopped: the finished runs are kept; run the same command to go on."); return Interrupted; }
            return Count(RunStatus.Failed) > 0 ? Cli.Failed : Cli.Ok;
        });
        return command;
    }

    /// <summary>
    /// Reads and validates a study file: every run's arguments go through its command's own parser and option checks
    /// (<c>adl train</c>'s or <c>adl gradflow</c>'s).
    /// </summary>
    internal static StudyPlan Plan(string path)
    {
        var train = TrainCommand.Create(TextWriter.Null, TextWriter.Null);
        var gradflow = GradFlowCommand.Create(TextWriter.Null);
        static IReadOnlyCollection<string> Names(Command c) => c.Options.Select(o => o.Name.TrimStart('-')).ToHashSet(StringComparer.Ordinal);
        var known = new Dictionary<string, IReadOnlyCollection<string>> { ["train"] = Names(train), ["gradflow"] = Names(gradflow) };
        var study = StudySpecReader.Read(path, known);
        return StudyPlan.Build(study, study.Command == "gradflow" ? args => ValidateGradFlow(gradflow, args) : args => ValidateTrain(train, args));
    }

    /// <summary>
    /// Parses <paramref name="args"/> as <c>adl gradflow</c> would and checks them with its own checks; a swept run must
    /// also measure one curve (one cell, or one spectral radius), so that each run is one point of the study.
    /// </summary>
    internal static GradFlowRunOptions ValidateGradFlow(Command gradflow, IReadOnlyList<string> args)
    {
        var r = gradflow.Parse(args.ToArray());
        if (r.Errors.Count > 0) throw new ArgumentException(string.Join("; ", r.Errors.Select(e => e.Message)));
        var (t, h, b, cells, radii) = GradFlowCommand.Validate(r);
        int curves = radii.Length > 0 ? radii.Length : cells.Length;
        if (curves != 1)
            throw new ArgumentException(radii.Length > 0
                ? $"a swept gradflow run measures one curve: give one radius per run (grid or random over 'radii'), got {radii.Length} ({string.Join(", ", radii.Select(x => x.ToString(CultureInfo.InvariantCulture)))})"
                : $"a swept gradflow run measures one curve: set 'cell' to one cell per run (grid or cases), got {cells.Length} ({string.Join(", ", cells)}){(r.GetResult("--cell") is System.CommandLine.Parsing.OptionResult { Implicit: false } ? "" : ", the default")}");
        return new GradFlowRunOptions(t, h, b);
    }

    /// <summary>Parses <paramref name="args"/> as <c>adl train</c> would and returns the options it would train with, or throws naming what is wrong.</summary>
    internal static TrainingOptions ValidateTrain(Command train, IReadOnlyList<string> args)
    {
        var r = train.Parse(args.ToArray());
        if (r.Errors.Count > 0) throw new ArgumentException(string.Join("; ", r.Errors.Select(e => e.Message)));
        T Get<T>(string name) => r.GetValue<T>(name)!;
        var options = new TrainingOptions
        {
            Cell = Get<string>("--cell"), Task = Get<string>("--task"), SequenceLength = Get<int>("--seq-len"), Hidden = Get<int>("--hidden"),
            Batch = Get<int>("--batch"), Steps = Get<int>("--steps"), LearningRate = Get<double>("--lr"), ClipNorm = Get<double?>("--clip"),
            ClipValue = Get<double?>("--clip-value"), Seed = Get<ulong>("--seed"), Optimizer = Get<string>("--optimizer"), Schedule = Get<string>("--schedule"),
            WarmupSteps = Get<int>("--warmup"), WeightDecay = Get<double>("--weight-decay"), Layers = Get<int>("--layers"), Residual = Get<bool>("--residual"),
            ForgetBias = Get<double?>("--forget-bias"), EvalEvery = Get<int>("--eval-every"), Double = Get<bool>("--double"),
            GradientCheckpoint = Get<int>("--grad-checkpoint"),
        };
        options.Validate();
        return options;
    }

    private static BackendReport RunLocally(StudyPlan plan, string dir, ProcessCommand adl, int jobs, bool retryFailed, ConsoleView view, bool asJson, CancellationToken cancel)
    {
        int total = LocalBackend.Pending(plan, dir, retryFailed: retryFailed).Count, finished = 0;
        if (!asJson) view.Line($"{plan.Runs.Count - total} runs finished before; running {total} with {jobs} at once.");
        string Describe(PlannedRun run, RunOutcome o) => FormattableString.Invariant(
            $"run {run.Index} ({string.Join(" ", plan.Varied.Select(v => $"{v}={Distribution.Show(run.Value(v) ?? "-")}"))}): {o.Status.ToString().ToLowerInvariant()}")
            + (o.Result?.FinalLoss is double l && o.Result.BaselineLoss > 0 ? FormattableString.Invariant($", loss / chance {l / o.Result.BaselineLoss:G3}") : "")
            + (o.GradFlow is { Curves: [var c] } ? FormattableString.Invariant($", log10 change per step {c.Log10ChangePerStep:G3}") : "");
        if (asJson || !view.Interactive)
            return LocalBackend.RunAsync(plan, dir, adl, jobs, retryFailed, null,
                (run, o) => { if (!asJson) view.Line($"  [{++finished}/{total}] {Describe(run, o)}"); }, cancel).GetAwaiter().GetResult();
        BackendReport report = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("runs", maxValue: Math.Max(1, total));
                report = LocalBackend.RunAsync(plan, dir, adl, jobs, retryFailed, null, (run, o) =>
                {
                    bar.Increment(1);
                    bar.Description = Markup.Escape($"runs: last {Describe(run, o)}");
                }, cancel).GetAwaiter().GetResult();
            });
        return report;
    }
}
