using System.Globalization;

namespace AutoDiffLstm.Experiments.Sweeps;

/// <summary>
/// A random-search distribution of one option. Values are drawn from a seeded <see cref="Rng"/>, so a study draws the
/// same settings on every machine; <see cref="Endpoints"/> are the extreme values, which the study validates before any run.
/// </summary>
public abstract record Distribution
{
    /// <summary>The names a study file may use, with the form each expects.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["log-uniform: [low, high] with 0 < low < high", "uniform: [low, high] with low < high", "int-range: [low, high] integers, low <= high (both included)", "choice: [v1, v2, ...] (at least one value)"];

    /// <summary>One draw.</summary>
    public abstract object Sample(Rng rng);

    /// <summary>The values at the edges of the distribution (every value of a choice).</summary>
    public abstract IReadOnlyList<object> Endpoints { get; }

    /// <summary>True when the option is best plotted and modelled on a log scale.</summary>
    public virtual bool LogScale => false;

    /// <summary>Numbers drawn uniformly in log space: exp(U(log low, log high)) (Bergstra and Bengio 2012 for learning rates).</summary>
    public sealed record LogUniform(double Low, double High) : Distribution
    {
        /// <inheritdoc/>
        public override object Sample(Rng rng) => Math.Exp(rng.NextDouble(Math.Log(Low), Math.Log(High)));
        /// <inheritdoc/>
        public override IReadOnlyList<object> Endpoints => [Low, High];
        /// <inheritdoc/>
        public override bool LogScale => true;
    }

    /// <summary>Numbers drawn uniformly in [low, high).</summary>
    public sealed record Uniform(double Low, double High) : Distribution
    {
        /// <inheritdoc/>
        public override object Sample(Rng rng) => rng.NextDouble(Low, High);
        /// <inheritdoc/>
        public override IReadOnlyList<object> Endpoints => [Low, High];
    }

    /// <summary>Integers drawn uniformly from low..high, both included.</summary>
    public sealed record IntRange(long Low, long High) : Distribution
    {
        /// <inheritdoc/>
        public override object Sample(Rng rng) => Low + (long)Math.Floor(rng.NextDouble() * (High - Low + 1));
        /// <inheritdoc/>
        public override IReadOnlyList<object> Endpoints => [Low, High];
    }

    /// <summary>One of the listed values, each equally likely.</summary>
    public sealed record Choice(IReadOnlyList<object> Values) : Distribution
    {
        /// <inheritdoc/>
        public override object Sample(Rng rng) => Values[rng.NextInt(Values.Count)];
        /// <inheritdoc/>
        public override IReadOnlyList<object> Endpoints => Values;
    }

    /// <summary>A value as the command line spells it (invariant culture, round-trip doubles).</summary>
    public static string Show(object v) => v switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
