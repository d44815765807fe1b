namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>One effect of a functional ANOVA: a hyper-parameter ("lr") or a pair ("lr x hidden"), its share of the variance (mean over trees) and the standard deviation of that share over the trees.</summary>
public sealed record AnovaEffect(IReadOnlyList<string> Features, double Fraction, double Spread)
{
    /// <summary>The effect's name: the features joined by " x ".</summary>
    public string Name => string.Join(" x ", Features);
}

/// <summary>The result of a functional ANOVA (<see cref="FunctionalAnova"/>).</summary>
/// <param name="Main">Each feature's main effect, largest first.</param>
/// <param name="Pairs">Every pair's interaction effect (beyond both main effects), largest first.</param>
/// <param name="Trees">The trees averaged over (those whose prediction is not constant).</param>
/// <param name="ConstantTrees">Trees left out because they predict one value everywhere (no variance to share).</param>
/// <param name="Points">The training points.</param>
public sealed record AnovaResult(IReadOnlyList<AnovaEffect> Main, IReadOnlyList<AnovaEffect> Pairs, int Trees, int ConstantTrees, int Points);

/// <summary>
/// Functional ANOVA over a random-forest surrogate (Hutter, Hoos and Leyton-Brown 2014, "An efficient approach for
/// assessing hyperparameter importance", ICML; used by Greff et al. 2017 to rank the LSTM's hyper-parameters).
/// </summary>
/// <remarks>
/// For one tree, the prediction f is constant on each leaf's box, and the boxes partition the domain Θ (features
/// independent and uniform). With |·| the share of a feature's domain a box covers:
/// <list type="bullet">
/// <item>f_∅ = Σ_leaves |box| v (the mean), V = Σ_leaves |box| (v − f_∅)² (the total variance);</item>
/// <item>the marginal a_U(θ_U) = Σ_leaves [θ_U ∈ box_U] v Π_{j∉U} |box_j| (the other features integrated out exactly);
/// it is constant on the cells that the tree's split points cut the domain of U into, so sums over those cells are exact;</item>
/// <item>main effect f_i = a_i − f_∅, pair effect f_ij = a_ij − a_i − a_j + f_∅, and each effect's variance share V_U / V.</item>
/// </list>
/// The shares are computed per tree and averaged (Hutter et al. 2014, Section 3.2); their standard deviation over the
/// trees is the spread reported.
/// </remarks>
public static class FunctionalAnova
{
    /// <summary>The fewest points a decomposition is attempted with.</summary>
    public const int MinimumPoints = 10;

    /// <summary>Fits a forest to the points and decomposes its variance (see the class remarks).</summary>
    /// <exception cref="ArgumentException">Fewer than <see cref="MinimumPoints"/> points, a constant outcome, or bad input.</exception>
    public static AnovaResult Decompose(IReadOnlyList<ForestFeature> features, double[][] x, double[] y, ForestOptions? options = null)
    {
        if (x.Length < MinimumPoints)
            throw new ArgumentException($"Functional ANOVA needs at least {MinimumPoints} runs with an outcome, got {x.Length}.");
        if (y.All(v => v == y[0]))
            throw new ArgumentException($"Functional ANOVA: the outcome is the same ({y[0]}) in all {y.Length} runs, so there is no variance to attribute.");
        return Decompose(RegressionForest.Fit(features, x, y, options), x.Length);
    }

    /// <summary>Decomposes the variance of an already fitted forest.</summary>
    public static AnovaResult Decompose(RegressionForest forest, int points)
    {
        int d = forest.Features.Count;
        var main = new List<double>[d];
        for (int i = 0; i < d; i++) main[i] = [];
        var pairs = new Dictionary<(int, int), List<double>>();
        for (int i = 0; i < d; i++) for (int j = i + 1; j < d; j++) pairs[(i, j)] = [];
        int constant = 0;
        foreach (var tree in forest.Trees)
        {
            var shares = TreeShares(tree);
            if (shares is null) { constant++; continue; }
            for (int i = 0; i < d; i++) main[i].Add(shares.Value.Main[i]);
            foreach (var (key, share) in shares.Value.Pairs) pairs[key].Add(share);
        }
        if (constant == forest.Trees.Count)
            throw new ArgumentException($"Functional ANOVA: all {constant} trees of the forest predict a constant, so there is no variance to attribute.");
        AnovaEffect Effect(IReadOnlyList<string> names, List<double> v) => new(names, v.Average(), StudyFigures.StandardDeviation([.. v]));
        var mainEffects = Enumerable.Range(0, d).Select(i => Effect([forest.Features[i].Name], main[i])).OrderByDescending(e => e.Fraction).ToArray();
        var pairEffects = pairs.Select(p => Effect([forest.Features[p.Key.Item1].Name, forest.Features[p.Key.Item2].Name], p.Value)).OrderByDescending(e => e.Fraction).ToArray();
        return new AnovaResult(mainEffects, pairEffects, forest.Trees.Count - constant, constant, points);
    }

    /// <summary>One tree's main-effect and pair shares of its variance; null when the tree is constant.</summary>
    private static (double[] Main, Dictionary<(int, int), double> Pairs)? TreeShares(RegressionTree tree)
    {
        var features = tree.Features;
        int d = features.Count;
        var leaves = tree.Leaves();
        // Share of each feature's domain each leaf covers.
        var cover = leaves.Select(l => Enumerable.Range(0, d).Select(f => Measure(features[f], l.Low[f], l.High[f], l.Levels[f])).ToArray()).ToArray();
        var weight = cover.Select(c => c.Aggregate(1.0, (a, b) => a * b)).ToArray();
        double mean = leaves.Select((l, k) => weight[k] * l.Value).Sum();
        double variance = leaves.Select((l, k) => weight[k] * (l.Value - mean) * (l.Value - mean)).Sum();
        if (!(variance > 1e-300)) return null;

        var cells = Enumerable.Range(0, d).Select(f => Cells.Of(tree, f)).ToArray();
        var marginals = new double[d][];
        var shares = new double[d];
        for (int i = 0; i < d; i++)
        {
            marginals[i] = new double[cells[i].Count];
            for (int k = 0; k < leaves.Count; k++)
            {
                double rest = leaves[k].Value * Product(cover[k], i, -1);
                foreach (int c in cells[i].Covered(leaves[k], i)) marginals[i][c] += rest;
            }
            shares[i] = Enumerable.Range(0, cells[i].Count).Sum(c => cells[i].Width[c] * Square(marginals[i][c] - mean)) / variance;
        }
        var pairShares = new Dictionary<(int, int), double>();
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
            {
                var joint = new double[cells[i].Count, cells[j].Count];
                for (int k = 0; k < leaves.Count; k++)
                {
                    double rest = leaves[k].Value * Product(cover[k], i, j);
                    var inJ = cells[j].Covered(leaves[k], j).ToArray();
                    foreach (int a in cells[i].Covered(leaves[k], i)) foreach (int b in inJ) joint[a, b] += rest;
                }
                double v = 0;
                for (int a = 0; a < cells[i].Count; a++)
                    for (int b = 0; b < cells[j].Count; b++)
                        v += cells[i].Width[a] * cells[j].Width[b] * Square(joint[a, b] - marginals[i][a] - marginals[j][b] + mean);
                pairShares[(i, j)] = v / variance;
            }
        return (shares, pairShares);
    }

    /// <summary>
    /// The cells that a tree's splits cut one feature's domain into: the intervals between its thresholds on the feature
    /// (numeric), or one cell per level (categorical); with each cell's share of the domain.
    /// </summary>
    private sealed record Cells(double[] Edges, double[] Width)
    {
        public int Count => Width.Length;

        public static Cells Of(RegressionTree tree, int f)
        {
            var feature = tree.Features[f];
            if (feature.IsCategorical) return new Cells([], Enumerable.Repeat(1.0 / feature.Levels, feature.Levels).ToArray());
            double[] edges = [feature.Low, .. tree.Thresholds(f).Where(t => t > feature.Low && t < feature.High), feature.High];
            return new Cells(edges, Enumerable.Range(0, edges.Length - 1).Select(k => (edges[k + 1] - edges[k]) / (feature.High - feature.Low)).ToArray());
        }

        /// <summary>The cells inside the leaf's box on feature <paramref name="f"/> (a box edge is always a cell edge).</summary>
        public IEnumerable<int> Covered(LeafBox leaf, int f)
        {
            if (leaf.Levels[f] is bool[] levels)
            {
                for (int c = 0; c < levels.Length; c++) if (levels[c]) yield return c;
                yield break;
            }
            for (int c = 0; c < Count; c++)
                if (Edges[c] >= leaf.Low[f] && Edges[c + 1] <= leaf.High[f]) yield return c;
        }
    }

    private static double Measure(ForestFeature feature, double low, double high, bool[]? levels) =>
        levels is not null ? levels.Count(l => l) / (double)levels.Length : Math.Max(0, high - low) / (feature.High - feature.Low);

    private static double Product(double[] cover, int skip1, int skip2)
    {
        double p = 1;
        for (int f = 0; f < cover.Length; f++) if (f != skip1 && f != skip2) p *= cover[f];
        return p;
    }

    private static double Square(double v) => v * v;
}
