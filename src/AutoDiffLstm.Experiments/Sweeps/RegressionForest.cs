namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// One input of a <see cref="RegressionForest"/>: a number uniform on [<see cref="Low"/>, <see cref="High"/>) (for a
/// log-uniform hyper-parameter, its log), or a category coded 0 .. <see cref="Levels"/> - 1, each level equally likely.
/// The domain is what the functional ANOVA integrates over, so it is the search space, not the range of the data.
/// </summary>
public sealed record ForestFeature
{
    private ForestFeature(string name, double low, double high, IReadOnlyList<string>? levels)
    {
        Name = name;
        Low = low;
        High = high;
        LevelNames = levels;
    }

    /// <summary>The hyper-parameter's name.</summary>
    public string Name { get; }
    /// <summary>Lower end of a numeric domain (0 for a categorical one).</summary>
    public double Low { get; }
    /// <summary>Upper end of a numeric domain (the level count for a categorical one).</summary>
    public double High { get; }
    /// <summary>The names of a categorical feature's levels; null for a numeric one.</summary>
    public IReadOnlyList<string>? LevelNames { get; }
    /// <summary>True for a categorical feature.</summary>
    public bool IsCategorical => LevelNames is not null;
    /// <summary>The number of levels of a categorical feature (0 for a numeric one).</summary>
    public int Levels => LevelNames?.Count ?? 0;

    /// <summary>A numeric feature uniform on [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static ForestFeature Numeric(string name, double low, double high)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || !(low < high))
            throw new ArgumentException($"Numeric feature '{name}': the domain [{low}, {high}) must be finite with low < high.");
        return new ForestFeature(name, low, high, null);
    }

    /// <summary>A categorical feature with the given level names (at least two).</summary>
    public static ForestFeature Categorical(string name, IReadOnlyList<string> levels)
    {
        if (levels.Count < 2) throw new ArgumentException($"Categorical feature '{name}' needs at least 2 levels, got {levels.Count}.");
        return new ForestFeature(name, 0, levels.Count, levels);
    }
}

/// <summary>Settings of a <see cref="RegressionForest"/>.</summary>
/// <param name="Trees">Trees in the forest; the importance is averaged over them and their spread reported.</param>
/// <param name="FeatureFraction">Share of the features each split may choose from (a random subset, at least one; Breiman 2001).</param>
/// <param name="MinLeaf">Fewest training points in a leaf.</param>
/// <param name="Seed">Seed of the bootstrap samples and feature subsets: the same seed gives the same forest.</param>
public sealed record ForestOptions(int Trees = 64, double FeatureFraction = 5.0 / 6.0, int MinLeaf = 2, ulong Seed = 2014);

/// <summary>
/// A regression tree over <see cref="ForestFeature"/>s: numeric splits x &lt; threshold, categorical splits by a set of
/// levels. Stored as flat arrays; <see cref="Leaves"/> lists each leaf's box of the domain, which is what the functional
/// ANOVA marginalises over.
/// </summary>
public sealed class RegressionTree
{
    private readonly List<int> feature = [], left = [], right = [];
    private readonly List<double> threshold = [], value = [];
    private readonly List<bool[]?> leftLevels = [];

    /// <summary>The features the tree splits on.</summary>
    public IReadOnlyList<ForestFeature> Features { get; }

    private RegressionTree(IReadOnlyList<ForestFeature> features) => Features = features;

    /// <summary>Prediction at point <paramref name="x"/> (categorical features as level indices).</summary>
    public double Predict(IReadOnlyList<double> x)
    {
        int node = 0;
        while (feature[node] >= 0) node = GoesLeft(node, x[feature[node]]) ? left[node] : right[node];
        return value[node];
    }

    private bool GoesLeft(int node, double x) => leftLevels[node] is bool[] levels ? levels[(int)x] : x < threshold[node];

    /// <summary>
    /// Every leaf with its value and its box: per feature, the numeric interval [Low, High) or the set of levels that
    /// reach it. The boxes partition the domain.
    /// </summary>
    public IReadOnlyList<LeafBox> Leaves()
    {
        var leaves = new List<LeafBox>();
        var lows = Features.Select(f => f.Low).ToArray();
        var highs = Features.Select(f => f.High).ToArray();
        var sets = Features.Select(f => f.IsCategorical ? Enumerable.Repeat(true, f.Levels).ToArray() : null).ToArray();
        void Walk(int node)
        {
            int f = feature[node];
            if (f < 0)
            {
                leaves.Add(new LeafBox(value[node], (double[])lows.Clone(), (double[])highs.Clone(), sets.Select(s => (bool[]?)s?.Clone()).ToArray()));
                return;
            }
            if (leftLevels[node] is bool[] levels)
            {
                var parent = sets[f]!;
                sets[f] = parent.Select((on, k) => on && levels[k]).ToArray();
                Walk(left[node]);
                sets[f] = parent.Select((on, k) => on && !levels[k]).ToArray();
                Walk(right[node]);
                sets[f] = parent;
                return;
            }
            double hi = highs[f], lo = lows[f];
            highs[f] = Math.Min(hi, threshold[node]);
            Walk(left[node]);
            highs[f] = hi;
            lows[f] = Math.Max(lo, threshold[node]);
            Walk(right[node]);
            lows[f] = lo;
        }
        Walk(0);
        return leaves;
    }

    /// <summary>The numeric thresholds the tree uses on feature <paramref name="f"/>, sorted and distinct.</summary>
    public double[] Thresholds(int f) =>
        Enumerable.Range(0, feature.Count).Where(n => feature[n] == f && leftLevels[n] is null).Select(n => threshold[n]).Distinct().Order().ToArray();

    /// <summary>
    /// Grows a tree on the points <paramref name="rows"/> (indices into <paramref name="x"/> and <paramref name="y"/>,
    /// repeats allowed: a bootstrap sample) until nodes are pure, below 2 x <see cref="ForestOptions.MinLeaf"/> points,
    /// or no split leaves <see cref="ForestOptions.MinLeaf"/> points on each side. Each node tries a random subset of
    /// the features first and the others only when none of those can split (as scikit-learn does).
    /// </summary>
    public static RegressionTree Grow(IReadOnlyList<ForestFeature> features, double[][] x, double[] y, int[] rows, ForestOptions options, Rng rng)
    {
        var tree = new RegressionTree(features);
        int tryFirst = Math.Clamp((int)Math.Ceiling(options.FeatureFraction * features.Count), 1, features.Count);
        tree.Split(rows, x, y, options, rng, tryFirst);
        return tree;
    }

    private int Split(int[] rows, double[][] x, double[] y, ForestOptions options, Rng rng, int tryFirst)
    {
        int node = AddLeaf(rows.Average(r => y[r]));
        double lowest = rows.Min(r => y[r]), highest = rows.Max(r => y[r]);
        if (rows.Length < 2 * options.MinLeaf || lowest == highest) return node;
        var order = Enumerable.Range(0, Features.Count).ToArray();
        for (int k = order.Length - 1; k > 0; k--) { int j = rng.NextInt(k + 1); (order[k], order[j]) = (order[j], order[k]); }
        Candidate? best = null;
        for (int k = 0; k < order.Length && (k < tryFirst || best is null); k++)
        {
            var c = Features[order[k]].IsCategorical ? BestLevelSplit(order[k], rows, x, y, options.MinLeaf) : BestNumericSplit(order[k], rows, x, y, options.MinLeaf);
            if (c is not null && (best is null || c.Score > best.Score)) best = c;
        }
        if (best is null) return node;
        var goLeft = rows.Where(r => best.Levels is bool[] l ? l[(int)x[r][best.Feature]] : x[r][best.Feature] < best.Threshold).ToArray();
        var goRight = rows.Where(r => best.Levels is bool[] l ? !l[(int)x[r][best.Feature]] : x[r][best.Feature] >= best.Threshold).ToArray();
        feature[node] = best.Feature;
        threshold[node] = best.Threshold;
        leftLevels[node] = best.Levels;
        left[node] = Split(goLeft, x, y, options, rng, tryFirst);
        right[node] = Split(goRight, x, y, options, rng, tryFirst);
        return node;
    }

    private int AddLeaf(double v)
    {
        feature.Add(-1);
        left.Add(-1);
        right.Add(-1);
        threshold.Add(double.NaN);
        value.Add(v);
        leftLevels.Add(null);
        return feature.Count - 1;
    }

    /// <summary>A split and its score sum_L^2 / n_L + sum_R^2 / n_R (maximising it minimises the squared error of the children).</summary>
    private sealed record Candidate(int Feature, double Threshold, bool[]? Levels, double Score);

    private static Candidate? BestNumericSplit(int f, int[] rows, double[][] x, double[] y, int minLeaf)
    {
        var sorted = rows.OrderBy(r => x[r][f]).ToArray();
        double total = sorted.Sum(r => y[r]), sumLeft = 0;
        Candidate? best = null;
        for (int k = 0; k < sorted.Length - 1; k++)
        {
            sumLeft += y[sorted[k]];
            int nLeft = k + 1, nRight = sorted.Length - nLeft;
            double a = x[sorted[k]][f], b = x[sorted[k + 1]][f];
            if (nLeft < minLeaf || nRight < minLeaf || a == b) continue;
            double score = sumLeft * sumLeft / nLeft + (total - sumLeft) * (total - sumLeft) / nRight;
            if (best is null || score > best.Score) best = new Candidate(f, 0.5 * (a + b), null, score);
        }
        return best;
    }

    /// <summary>
    /// The best split of a categorical feature: levels ordered by their mean outcome, then the best prefix (for squared
    /// error this finds the best of all 2^(k-1) splits; Breiman et al. 1984, CART, Section 9.4). Levels absent from the
    /// node go with the larger side.
    /// </summary>
    private Candidate? BestLevelSplit(int f, int[] rows, double[][] x, double[] y, int minLeaf)
    {
        var groups = rows.GroupBy(r => (int)x[r][f]).Select(g => (Level: g.Key, Count: g.Count(), Sum: g.Sum(r => y[r])))
            .OrderBy(g => g.Sum / g.Count).ThenBy(g => g.Level).ToArray();
        double total = groups.Sum(g => g.Sum), sumLeft = 0;
        int nLeft = 0, bestPrefix = -1;
        double bestScore = double.NegativeInfinity;
        for (int k = 0; k < groups.Length - 1; k++)
        {
            sumLeft += groups[k].Sum;
            nLeft += groups[k].Count;
            int nRight = rows.Length - nLeft;
            if (nLeft < minLeaf || nRight < minLeaf) continue;
            double score = sumLeft * sumLeft / nLeft + (total - sumLeft) * (total - sumLeft) / nRight;
            if (score > bestScore) { bestScore = score; bestPrefix = k; }
        }
        if (bestPrefix < 0) return null;
        int leftCount = groups.Take(bestPrefix + 1).Sum(g => g.Count);
        bool absentGoLeft = leftCount >= rows.Length - leftCount;
        var levels = Enumerable.Repeat(absentGoLeft, Features[f].Levels).ToArray();
        for (int k = 0; k < groups.Length; k++) levels[groups[k].Level] = k <= bestPrefix;
        return new Candidate(f, double.NaN, levels, bestScore);
    }
}

/// <summary>A leaf of a <see cref="RegressionTree"/>: its value and its box (numeric intervals, level sets; null where numeric).</summary>
public sealed record LeafBox(double Value, double[] Low, double[] High, bool[]?[] Levels);

/// <summary>
/// A random forest for regression (Breiman 2001): trees grown on bootstrap samples with random feature subsets. It is
/// the surrogate of a study's outcome that <see cref="FunctionalAnova"/> decomposes; everything is deterministic given
/// <see cref="ForestOptions.Seed"/>.
/// </summary>
public sealed class RegressionForest
{
    private RegressionForest(IReadOnlyList<ForestFeature> features, IReadOnlyList<RegressionTree> trees)
    {
        Features = features;
        Trees = trees;
    }

    /// <summary>The features.</summary>
    public IReadOnlyList<ForestFeature> Features { get; }

    /// <summary>The trees.</summary>
    public IReadOnlyList<RegressionTree> Trees { get; }

    /// <summary>The mean prediction of the trees.</summary>
    public double Predict(IReadOnlyList<double> x) => Trees.Average(t => t.Predict(x));

    /// <summary>Fits the forest to points <paramref name="x"/> (one row per point, categorical features as level indices) and outcomes <paramref name="y"/>.</summary>
    public static RegressionForest Fit(IReadOnlyList<ForestFeature> features, double[][] x, double[] y, ForestOptions? options = null)
    {
        options ??= new ForestOptions();
        if (features.Count == 0) throw new ArgumentException("RegressionForest.Fit: no features to fit on.");
        if (x.Length != y.Length) throw new ArgumentException($"RegressionForest.Fit: {x.Length} points but {y.Length} outcomes.");
        if (options.Trees < 1 || options.MinLeaf < 1 || !(options.FeatureFraction > 0 && options.FeatureFraction <= 1))
            throw new ArgumentException($"RegressionForest.Fit: {options} is invalid; expected Trees >= 1, MinLeaf >= 1 and 0 < FeatureFraction <= 1.");
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i].Length != features.Count) throw new ArgumentException($"RegressionForest.Fit: point {i} has {x[i].Length} values for {features.Count} features.");
            if (!double.IsFinite(y[i])) throw new ArgumentException($"RegressionForest.Fit: outcome {i} is {y[i]}; expected a finite number.");
            for (int f = 0; f < features.Count; f++)
            {
                var feat = features[f];
                double v = x[i][f];
                bool inside = feat.IsCategorical ? v == Math.Floor(v) && v >= 0 && v < feat.Levels : v >= feat.Low && v <= feat.High;
                if (!inside) throw new ArgumentException($"RegressionForest.Fit: point {i} has {feat.Name} = {v}, outside its domain {(feat.IsCategorical ? $"levels 0..{feat.Levels - 1}" : $"[{feat.Low}, {feat.High}]")}.");
            }
        }
        var rng = new Rng(options.Seed);
        var trees = new List<RegressionTree>();
        for (int t = 0; t < options.Trees; t++)
        {
            var treeRng = rng.Fork();
            var sample = Enumerable.Range(0, x.Length).Select(_ => treeRng.NextInt(x.Length)).ToArray();
            trees.Add(RegressionTree.Grow(features, x, y, sample, options, treeRng));
        }
        return new RegressionForest(features, trees);
    }
}
