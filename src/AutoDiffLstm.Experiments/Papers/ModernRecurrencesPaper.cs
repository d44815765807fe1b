using AutoDiffLstm.Experiments.Figures;
using AutoDiffLstm.Experiments.Studies;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Experiments.Papers;

/// <summary>
/// "Recurrences of 2016-2025 on long-range tasks": LSTM and GRU against minGRU, minLSTM, LRU, sLSTM, mLSTM, IndRNN and
/// JANET with one fixed setting per task (adding at T = 200 and 1000, selective copying, associative recall, character-level
/// language modelling): held-out quality
/// against each task's chance baseline, training steps per second, and the gradient flow of each cell at initialisation.
/// </summary>
public sealed class ModernRecurrencesPaper : IPaper
{
    /// <inheritdoc/>
    public string Id => "modern-recurrences";

    /// <inheritdoc/>
    public string Title => "Recurrences of 2016-2025 on long-range tasks";

    /// <summary>The registry names compared, the two classic baselines first.</summary>
    public static IReadOnlyList<string> Cells { get; } = ["lstm", "gru", "mingru", "minlstm", "lru", "slstm", "mlstm", "indrnn", "janet"];

    /// <summary>One task's fixed setting, shared by every cell.</summary>
    public sealed record TaskSetting(string Key, string Task, int Length, int Steps, int Hidden);

    /// <summary>
    /// The tasks and their settings at <paramref name="scale"/>: sized so that the 135 full-scale runs fit in about twenty
    /// minutes on two cores. Adding at T = 1000 gets 600 steps (one of its steps costs five T = 200 steps, and mLSTM's
    /// [B, H^2] state makes it the slowest cell); selective copying and associative recall get 800; char-lm uses H = 32
    /// because mLSTM's matrix state costs H^2 per step. An aborted first attempt showed that adding at T = 200 with 300
    /// steps stayed at chance for every cell, so these budgets test whether a cell starts to learn, not convergence.
    /// </summary>
    public static IReadOnlyList<TaskSetting> Tasks(PaperScale scale) => scale == PaperScale.Ci
        ? [new("adding-200", "adding", 8, 6, 8), new("adding-1000", "adding", 12, 6, 8), new("selective-copy", "selective-copy", 10, 6, 8),
           new("assoc-recall", "assoc-recall", 12, 6, 8), new("char-lm", "char-lm", 10, 6, 8)]
        : [new("adding-200", "adding", 200, 400, 32), new("adding-1000", "adding", 1000, 600, 32), new("selective-copy", "selective-copy", 20, 800, 64),
           new("assoc-recall", "assoc-recall", 20, 800, 64), new("char-lm", "char-lm", 50, 400, 32)];

    /// <summary>A run counts as solved when its held-out loss is below this fraction of the chance loss.</summary>
    public const double SolvedFraction = 0.1;

    /// <inheritdoc/>
    public void Run(PaperContext context)
    {
        ulong[] seeds = context.Pick<ulong[]>([1, 2, 3], [1]);
        int batch = context.Pick(32, 4), evalBatch = context.Pick(256, 16);
        const double learningRate = 1e-2, clip = 1.0;
        var tasks = Tasks(context.Scale);
        var configs = new List<(string Label, TrainingOptions Options)>();
        foreach (var task in tasks)
            foreach (string cell in Cells)
                foreach (ulong seed in seeds)
                    configs.Add(($"{task.Key}/{cell}/seed {seed}", new TrainingOptions
                    {
                        Cell = cell, Task = task.Task, SequenceLength = task.Length, Hidden = task.Hidden, Batch = batch, Steps = task.Steps,
                        Optimizer = "adam", LearningRate = learningRate, ClipNorm = clip, Seed = seed,
                        EvalEvery = Math.Max(1, task.Steps / 10), EvalBatch = evalBatch,
                    }));
        context.Log($"{configs.Count} training runs: {Cells.Count} cells x {tasks.Count} tasks x {seeds.Length} seed(s)");
        var runs = PaperRuns.Train(context, configs);
        var byKey = configs.Select((c, k) => (Key: (Task: tasks[k / (Cells.Count * seeds.Length)].Key, c.Options.Cell, c.Options.Seed), runs[k].Result))
            .ToDictionary(x => x.Key, x => x.Result);

        context.Text("seeds", string.Join(", ", seeds));
        context.Number("seed-count", seeds.Length, "F0");
        context.Number("run-count", configs.Count, "F0");
        context.Number("cell-count", Cells.Count, "F0");
        context.Number("batch", batch, "F0");
        context.Number("eval-batch", evalBatch, "F0");
        context.Number("learning-rate", learningRate, "0.####");
        context.Number("clip", clip, "0.0");
        context.Table("settings", "The fixed setting of each task, shared by all cells: the task's length parameter, steps per input sequence, training steps, hidden size and the chance loss the results are read against (for char-lm, which has no chance level of its own, the unigram entropy of the text in nats per character: the loss of the best predictor that ignores context).",
            [new("task"), new("length parameter T", "0"), new("steps per sequence", "0"), new("training steps", "0"), new("hidden size", "0"), new("chance loss", "F4")],
            tasks.Select(t => (IReadOnlyList<object?>)[t.Key, t.Length, TaskRegistry.Create<float>(t.Task, t.Length).Steps, t.Steps, t.Hidden, byKey[(t.Key, Cells[0], seeds[0])].BaselineLoss]));
        context.Table("cells", "The cells: registry name, description, state tensors, whether the cell trains by a parallel scan over time, and trainable parameters (recurrent layer and read-out) at the selective-copying sizes.",
            [new("cell"), new("description"), new("state"), new("parallel form"), new("parameters", "0")],
            Cells.Select(c =>
            {
                var info = CellRegistry.Find(c);
                return (IReadOnlyList<object?>)[c, info.Description, string.Join(", ", info.StateNames), info.HasParallelForm ? "yes" : "no", byKey[("selective-copy", c, seeds[0])].ParameterCount];
            }));

        // Quality: the held-out loss over chance per task, and solved seeds.
        var columns = new List<TableColumn> { new("cell") };
        foreach (var t in tasks) { columns.Add(new($"{t.Key}: loss / chance", "F3")); columns.Add(new($"{t.Key}: solved")); }
        double Ratio(string task, string cell) => seeds.Average(s => Final(byKey[(task, cell, s)])) / byKey[(task, cell, seeds[0])].BaselineLoss;
        int Solved(string task, string cell) => seeds.Count(s => Final(byKey[(task, cell, s)]) < SolvedFraction * byKey[(task, cell, s)].BaselineLoss);
        context.Table("quality", $"Held-out loss after training, mean over the {seeds.Length} seed(s), relative to the task's chance loss (1 = chance, 0 = perfect), and the seeds that solved the task (loss below {SolvedFraction:0.0} of chance).",
            columns, Cells.Select(c =>
            {
                var row = new List<object?> { c };
                foreach (var t in tasks) { row.Add(Ratio(t.Key, c)); row.Add($"{Solved(t.Key, c)}/{seeds.Length}"); }
                return (IReadOnlyList<object?>)row;
            }));
        foreach (var t in tasks)
        {
            var best = Cells.OrderBy(c => Ratio(t.Key, c)).First();
            context.Text($"{t.Key}-best", best);
            context.Number($"{t.Key}-best-ratio", Ratio(t.Key, best), "F3");
            foreach (var c in Cells) context.Number($"{t.Key}-{c}-ratio", Ratio(t.Key, c), "F3");
            var recall = byKey[(t.Key, Cells[0], seeds[0])];
            if (recall.Final.Accuracy is not null)
                foreach (var c in Cells) context.Number($"{t.Key}-{c}-accuracy", 100 * seeds.Average(s => byKey[(t.Key, c, s)].Final.Accuracy ?? double.NaN), "F1");
            context.Figure(t.Key, $"{t.Key}, T = {t.Length}: held-out loss during training (median over seeds) with the chance loss.",
                new LineFigure($"{t.Key}, T = {t.Length}", "training step", "held-out loss", LogY: true,
                    [.. Cells.Select(c => Curve(c, seeds.Select(s => byKey[(t.Key, c, s)]).ToArray())),
                     new Series("chance", [0, t.Steps], [recall.BaselineLoss, recall.BaselineLoss])]));
        }

        // Speed: training steps per second of every task, and relative to the LSTM on the longest adding problem (several
        // runs share the cores: the ratios carry over, the absolute rates less so).
        var speedTask = tasks[1];
        double Speed(string task, string cell) => PaperRuns.Median(seeds.Select(s => byKey[(task, cell, s)].StepsPerSecond));
        var speedColumns = new List<TableColumn> { new("cell") };
        foreach (var t in tasks) speedColumns.Add(new($"{t.Key}: steps / s", "F2"));
        speedColumns.Add(new($"{speedTask.Key}: relative to lstm", "F2"));
        context.Table("speed", $"Training steps per second (B = {batch}, each task's T and H from the settings table), median over seeds, and on {speedTask.Key} relative to the LSTM. Two runs share the machine's two cores at a time, so only the ratios carry over to another machine.",
            speedColumns, Cells.Select(c =>
            {
                var row = new List<object?> { c };
                foreach (var t in tasks) row.Add(Speed(t.Key, c));
                row.Add(Speed(speedTask.Key, c) / Speed(speedTask.Key, "lstm"));
                return (IReadOnlyList<object?>)row;
            }));
        foreach (var c in Cells) context.Number($"speed-{c}-relative", Speed(speedTask.Key, c) / Speed(speedTask.Key, "lstm"), "F2");
        foreach (var c in Cells) context.Number($"speed-{c}-{speedTask.Key}", Speed(speedTask.Key, c), "F1");

        // Gradient flow at initialisation, through the state that carries the memory: C for mLSTM (its h feeds nothing
        // back), c for the LSTM and sLSTM, s_re for the LRU (its h is a read-out of s and is not fed back), h for the others.
        int flowSteps = context.Pick(200, 12), flowHidden = context.Pick(32, 4);
        var curves = GradientFlowStudy.Compare(Cells.Select(c => new GradientFlowStudy.Contender(c, c)), flowSteps, flowHidden, batch: 8, inputSize: 4, seed: 7);
        var memory = curves.Select(c =>
        {
            var names = c.Result.StateNames;
            string state = names.Contains("C") ? "C" : names.Contains("c") ? "c" : names.Contains("s_re") ? "s_re" : "h";
            var norms = c.Result.Norms[names.ToList().IndexOf(state)];
            return (c.Label, State: state, Norms: norms, Slope: PaperRuns.Log10SlopePerStepBack(norms));
        }).ToArray();
        context.Figure("gradflow", $"Gradient norm of the memory state (C for mLSTM, c for LSTM and sLSTM, the real part s_re for the LRU, h otherwise) at initialisation over {flowSteps} steps (H = {flowHidden}, B = 8, loss on the last step), going back from the loss.",
            new LineFigure("Gradient flow at initialisation", "steps back from the loss (T - 1 - t)", "||dL/d state_t||", LogY: true,
                memory.Select(m => new Series($"{m.Label} ({m.State})", Enumerable.Range(0, m.Norms.Length).Select(k => (double)k).ToArray(), m.Norms.Reverse().ToArray())).ToArray()));
        context.Table("gradflow", "Gradient flow at initialisation: the state measured and the average change of log10 of its gradient norm per step back from the loss (negative: vanishing).",
            [new("cell"), new("state"), new("log10 change per step", "F4")],
            memory.Select(m => (IReadOnlyList<object?>)[m.Label, m.State, m.Slope]));
        foreach (var m in memory) context.Number($"gradflow-{m.Label}", m.Slope, "F4");
    }

    private static double Final(TrainingResult r) => r.Evaluations.Count == 0 ? double.NaN : r.Final.Loss;

    private static Series Curve(string label, TrainingResult[] runs)
    {
        var evals = runs.Select(r => r.Evaluations).ToArray();
        int points = evals.Min(e => e.Count);
        return new Series(label, Enumerable.Range(0, points).Select(k => (double)evals[0][k].Step).ToArray(),
            Enumerable.Range(0, points).Select(k => PaperRuns.Median(evals.Select(e => e[k].Loss))).ToArray());
    }
}
