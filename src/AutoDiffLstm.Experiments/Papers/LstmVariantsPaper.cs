using System.Globalization;
using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// "LSTM variants on long-range tasks": the vanilla LSTM and the eight one-change variants of Greff et al. (2017)
/// trained with one fixed, modest setting per task on the adding problem, temporal order and copy memory, read
/// against each task's chance baseline; and the committed study <c>studies/lstm-variants</c> of the same variants
/// (random search, ten seeds, importance analysis), read from the files <c>adl sweep</c> wrote.
/// </summary>
public sealed partial class LstmVariantsPaper : IPaper
{
    /// <inheritdoc/>
    public string Id => "lstm-variants";

    /// <inheritdoc/>
    public string Title => "LSTM variants on long-range tasks";

    /// <summary>The catalogue names of the nine architectures, vanilla first.</summary>
    public static IReadOnlyList<string> Variants { get; } = LstmVariant.Greff.Select(v => "lstm-" + v.Name.ToLowerInvariant()).ToArray();

    /// <summary>One task's fixed setting, shared by every variant.</summary>
    public sealed record TaskSetting(string Task, int Length, int Steps, int Hidden);

    /// <summary>The tasks and their settings at <paramref name="scale"/>.</summary>
    public static IReadOnlyList<TaskSetting> Tasks(PaperScale scale) => scale == PaperScale.Ci
        ? [new("adding", 8, 10, 8), new("temporal-order", 10, 10, 8), new("copy", 2, 10, 8)]
        : [new("adding", 20, 500, 32), new("temporal-order", 30, 500, 32), new("copy", 10, 800, 64)];

    /// <inheritdoc/>
    public void Run(PaperContext context)
    {
        // The study is read first: a missing study fails in a second, not after minutes of training.
        var study = context.Study(StudyName, $"Paper {Id}");
        ulong[] seeds = context.Pick<ulong[]>([1, 2, 3], [1, 2]);
        int batch = context.Pick(32, 8), evalBatch = context.Pick(256, 32);
        const double learningRate = 1e-2, clip = 1.0;
        var tasks = Tasks(context.Scale);
        var configs = new List<(string Label, TrainingOptions Options)>();
        foreach (var task in tasks)
            foreach (string variant in Variants)
                foreach (ulong seed in seeds)
                    configs.Add(($"{task.Task}/{variant}/seed {seed}", new TrainingOptions
                    {
                        Cell = variant, Task = task.Task, SequenceLength = task.Length, Hidden = task.Hidden, Batch = batch, Steps = task.Steps,
                        Optimizer = "adam", LearningRate = learningRate, ClipNorm = clip, Seed = seed,
                        EvalEvery = Math.Max(1, task.Steps / 20), EvalBatch = evalBatch,
                    }));
        context.Log($"{configs.Count} training runs: {Variants.Count} variants x {tasks.Count} tasks x {seeds.Length} seed(s)");
        var runs = PaperRuns.Train(context, configs);
        var byKey = configs.Select((c, k) => (c.Options, Run: runs[k])).ToDictionary(x => (x.Options.Task, x.Options.Cell, x.Options.Seed), x => x.Run.Result);

        context.Text("seeds", string.Join(", ", seeds));
        context.Number("seed-count", seeds.Length, "F0");
        context.Number("run-count", configs.Count, "F0");
        context.Number("variant-count", Variants.Count, "F0");
        context.Number("runs-per-variant", tasks.Count * seeds.Length, "F0");
        context.Number("batch", batch, "F0");
        context.Number("eval-batch", evalBatch, "F0");
        context.Number("learning-rate", learningRate, "0.###");
        context.Number("clip", clip, "0.0");
        Settings(context, tasks, byKey, seeds[0], batch);

        var outcomes = new Dictionary<(string Task, string Variant), Outcome>();
        foreach (var task in tasks)
        {
            var results = Variants.ToDictionary(v => v, v => seeds.Select(s => byKey[(task.Task, v, s)]).ToArray());
            var reference = results[Variants[0]][0];
            bool classification = reference.Final.Accuracy is not null;
            double? chanceAccuracy = task.Task == "copy" ? CopyMemorylessAccuracy(task.Length) : reference.BaselineAccuracy;
            if (chanceAccuracy is double a) context.Number($"{task.Task}-chance-accuracy", a * 100, "F1");
            foreach (var v in Variants) outcomes[(task.Task, v)] = new Outcome(results[v], reference.BaselineLoss);
            TaskTable(context, task, seeds, results, outcomes, reference.BaselineLoss, chanceAccuracy, classification);
            TaskFigure(context, task, seeds.Length, results, reference.BaselineLoss);
            TaskNumbers(context, task, seeds.Length, outcomes, classification);
        }
        Summary(context, tasks, seeds.Length, outcomes);
        StudySection(context, study);
    }

    /// <summary>
    /// Accuracy of the copy task's memoryless baseline, which the task does not state: blanks right for the first T + 10
    /// of the T + 20 steps, one in eight right for the last 10.
    /// </summary>
    private static double CopyMemorylessAccuracy(int delay)
    {
        int steps = delay + 2 * CopyMemory<float>.CopyLength;
        return (steps - CopyMemory<float>.CopyLength + CopyMemory<float>.CopyLength / (double)CopyMemory<float>.DataSymbols) / steps;
    }

    /// <summary>A run counts as solved when its held-out loss is below this fraction of the chance loss.</summary>
    public const double SolvedFraction = 0.1;

    /// <summary>One variant on one task over the seeds.</summary>
    private sealed record Outcome(TrainingResult[] Runs, double Chance)
    {
        public double MeanRatio => Runs.Average(FinalLoss) / Chance;
        public int Solved => Runs.Count(r => FinalLoss(r) < SolvedFraction * Chance);
        public double MeanAccuracy => Runs.Average(r => r.Final.Accuracy ?? double.NaN);
    }

    private static double FinalLoss(TrainingResult r) => r.Evaluations.Count == 0 ? double.NaN : r.Final.Loss;

    private static void Settings(PaperContext context, IReadOnlyList<TaskSetting> tasks, Dictionary<(string, string, ulong), TrainingResult> byKey, ulong seed, int batch)
    {
        context.Table("settings", "The fixed setting of each task, shared by all nine variants: the task's length parameter, steps per input sequence, training steps, hidden size, and the chance baseline the losses are read against.",
            [new("task"), new("length parameter T", "0"), new("steps per sequence", "0"), new("training steps", "0"), new("hidden size", "0"), new("batch", "0"), new("chance loss", "F4"), new("chance accuracy", "P1"), new("chance predictor")],
            tasks.Select(t =>
            {
                var r = byKey[(t.Task, Variants[0], seed)];
                var task = TaskRegistry.Create<float>(t.Task, t.Length);
                return (IReadOnlyList<object?>)[t.Task, t.Length, task.Steps, t.Steps, t.Hidden, batch, r.BaselineLoss, t.Task == "copy" ? CopyMemorylessAccuracy(t.Length) : r.BaselineAccuracy, ChanceText(t.Task)];
            }));
        foreach (var t in tasks)
        {
            context.Number($"{t.Task}-length", t.Length, "F0");
            context.Number($"{t.Task}-steps", t.Steps, "F0");
            context.Number($"{t.Task}-hidden", t.Hidden, "F0");
        }
        context.Table("parameters", "Trainable parameters of each variant (recurrent layer and linear read-out) for each task's input, hidden and output sizes.",
            [new("variant"), .. tasks.Select(t => new TableColumn(t.Task, "0"))],
            Variants.Select(v => (IReadOnlyList<object?>)[v, .. tasks.Select(t => (object?)byKey[(t.Task, v, seed)].ParameterCount)]));
    }

    private static string ChanceText(string task) => task switch
    {
        "adding" => "always predict 1",
        "temporal-order" => "uniform over the 4 classes",
        "copy" => "blank, then uniform over the 8 symbols",
        _ => "",
    };

    private static void TaskTable(PaperContext context, TaskSetting task, ulong[] seeds, Dictionary<string, TrainingResult[]> results,
        Dictionary<(string Task, string Variant), Outcome> outcomes, double chance, double? chanceAccuracy, bool classification)
    {
        var columns = new List<TableColumn> { new("variant") };
        columns.AddRange(seeds.Select(s => new TableColumn($"loss, seed {s}", "G3")));
        columns.Add(new("mean / chance", "F3"));
        columns.Add(new("solved"));
        if (classification) columns.Add(new("mean accuracy", "P1"));
        var rows = Variants.Select(v =>
        {
            var o = outcomes[(task.Task, v)];
            var row = new List<object?> { v };
            row.AddRange(results[v].Select(r => (object?)FinalLoss(r)));
            row.Add(o.MeanRatio);
            row.Add($"{o.Solved}/{seeds.Length}");
            if (classification) row.Add(o.MeanAccuracy);
            return (IReadOnlyList<object?>)row;
        }).ToList();
        var chanceRow = new List<object?> { "chance" };
        chanceRow.AddRange(seeds.Select(_ => (object?)chance));
        chanceRow.Add(1.0);
        chanceRow.Add("");
        if (classification) chanceRow.Add(chanceAccuracy);
        rows.Add(chanceRow);
        string metric = task.Task == "adding" ? "MSE" : "cross-entropy (nats)";
        context.Table(task.Task, $"{task.Task}, T = {task.Length}: held-out {metric} after {task.Steps} steps per variant and seed, the mean over seeds relative to chance, the seeds whose loss is below {SolvedFraction:0.0} of chance (solved){(classification ? ", and the mean accuracy" : "")}. Held-out: a fixed batch drawn from a separate seed.",
            columns, rows);
    }

    private static void TaskFigure(PaperContext context, TaskSetting task, int seedCount, Dictionary<string, TrainingResult[]> results, double chance)
    {
        var series = Variants.Select(v =>
        {
            var evals = results[v].Select(r => r.Evaluations).ToArray();
            int points = evals.Min(e => e.Count);
            var x = Enumerable.Range(0, points).Select(k => (double)evals[0][k].Step).ToArray();
            var y = Enumerable.Range(0, points).Select(k => PaperRuns.Median(evals.Select(e => e[k].Loss))).ToArray();
            return new Series(v, x, y);
        }).ToList();
        series.Add(new Series("chance", [0, task.Steps], [chance, chance]));
        context.Figure(task.Task, $"{task.Task}, T = {task.Length}: held-out loss during training of the nine variants, median over the {seedCount} seeds (the typical run), with the chance baseline.",
            new LineFigure($"{task.Task}, T = {task.Length} (median over seeds; every variant's forget bias ~0, PyTorch's default)", "training step", "held-out loss", LogY: true, series));
    }

    private static void TaskNumbers(PaperContext context, TaskSetting task, int seedCount, Dictionary<(string Task, string Variant), Outcome> outcomes, bool classification)
    {
        context.Number($"{task.Task}-chance", outcomes[(task.Task, Variants[0])].Chance, "F3");
        foreach (var v in Variants)
        {
            var o = outcomes[(task.Task, v)];
            context.Number($"{task.Task}-{v}-ratio", o.MeanRatio, "F3");
            context.Number($"{task.Task}-{v}-solved", o.Solved, "F0");
            if (classification) context.Number($"{task.Task}-{v}-accuracy", o.MeanAccuracy * 100, "F1");
        }
        var ordered = Variants.OrderBy(v => outcomes[(task.Task, v)].MeanRatio).ToArray();
        context.Text($"{task.Task}-best", ordered[0]);
        context.Number($"{task.Task}-best-ratio", outcomes[(task.Task, ordered[0])].MeanRatio, "F3");
        context.Text($"{task.Task}-worst", ordered[^1]);
        context.Number($"{task.Task}-worst-ratio", outcomes[(task.Task, ordered[^1])].MeanRatio, "F3");
        context.Number($"{task.Task}-solved-runs", Variants.Sum(v => outcomes[(task.Task, v)].Solved), "F0");
        context.Number($"{task.Task}-runs", Variants.Count * seedCount, "F0");
        context.Number($"{task.Task}-all-solved", Variants.Count(v => outcomes[(task.Task, v)].Solved == seedCount), "F0");
        context.Number($"{task.Task}-none-solved", Variants.Count(v => outcomes[(task.Task, v)].Solved == 0), "F0");
        // Variants whose seeds disagree (some solved, some not): there, one seed's result says little.
        context.Number($"{task.Task}-split", Variants.Count(v => outcomes[(task.Task, v)].Solved > 0 && outcomes[(task.Task, v)].Solved < seedCount), "F0");
    }

    private static void Summary(PaperContext context, IReadOnlyList<TaskSetting> tasks, int seedCount, Dictionary<(string Task, string Variant), Outcome> outcomes)
    {
        var columns = new List<TableColumn> { new("variant") };
        foreach (var t in tasks)
        {
            columns.Add(new($"{t.Task}: mean / chance", "F3"));
            columns.Add(new($"{t.Task}: solved"));
        }
        columns.Add(new("solved, all tasks"));
        context.Table("summary", $"Per variant and task: the mean held-out loss relative to chance (1 = no better than the chance predictor, 0 = perfect) and the seeds that solved the task (loss below {SolvedFraction:0.0} of chance); the last column counts the solved runs over all tasks.",
            columns,
            Variants.Select(v =>
            {
                var row = new List<object?> { v };
                foreach (var t in tasks)
                {
                    row.Add(outcomes[(t.Task, v)].MeanRatio);
                    row.Add($"{outcomes[(t.Task, v)].Solved}/{seedCount}");
                }
                row.Add($"{tasks.Sum(t => outcomes[(t.Task, v)].Solved)}/{tasks.Count * seedCount}");
                return (IReadOnlyList<object?>)row;
            }));
        foreach (var v in Variants) context.Number($"{v}-solved-total", tasks.Sum(t => outcomes[(t.Task, v)].Solved), "F0");
    }
}
