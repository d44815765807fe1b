using System.Globalization;

namespace AutoDiffLstm;

/// <summary>The outcome of a <see cref="GradCheck"/>: worst errors, where they occurred, and whether they are within tolerance.</summary>
public sealed record GradCheckReport
{
    /// <summary>True when every compared value is within tolerance.</summary>
    public required bool Passed { get; init; }
    /// <summary>The mode that ran (never Auto).</summary>
    public required GradCheckMode Mode { get; init; }
    /// <summary>Number of values compared (Jacobian entries, or directions).</summary>
    public required int Compared { get; init; }
    /// <summary>Largest |analytic - numeric|.</summary>
    public required double MaxAbsoluteError { get; init; }
    /// <summary>Largest |analytic - numeric| / max(|numeric|, |analytic|, tiny).</summary>
    public required double MaxRelativeError { get; init; }
    /// <summary>The comparison that most exceeded (or came closest to) its tolerance.</summary>
    public required GradCheckEntry Worst { get; init; }
    /// <summary>Caveats about the check itself (e.g. float inputs).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>
    /// The options the comparisons ran with: a value passes when |analytic - numeric| &lt;= AbsoluteTolerance +
    /// RelativeTolerance |numeric| (+ NumericErrorFactor |D(h) - D(2h)| with EstimateNumericError), central differences
    /// with step Step.
    /// </summary>
    public required GradCheckOptions Tolerance { get; init; }
    /// <summary>The tolerance that applied to <see cref="Worst"/>: what |analytic - numeric| had to stay within there.</summary>
    public required double WorstAllowed { get; init; }

    /// <summary>A one-paragraph summary for logs and notebooks.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        string where = Worst.Input < 0 ? $"direction {Worst.Index}" : $"d output[{Worst.OutputIndex}] / d input {Worst.Input}[{Worst.Index}]";
        string tolerance = string.Format(c, "tolerance |analytic - numeric| <= {0:G3} + {1:G3} |numeric|{2}, step {3:G3}; allowed there {4:G3}",
            Tolerance.AbsoluteTolerance, Tolerance.RelativeTolerance,
            Tolerance.EstimateNumericError ? string.Format(c, " + {0:G3} |D(h) - D(2h)|", Tolerance.NumericErrorFactor) : "", Tolerance.Step, WorstAllowed);
        return string.Format(c, "GradCheck {0} ({1}, {2} compared): max abs error {3:G3}, max rel error {4:G3}; worst at {5}: analytic {6:G10} vs numeric {7:G10}; {8}{9}",
            Passed ? "passed" : "FAILED", Mode, Compared, MaxAbsoluteError, MaxRelativeError, where, Worst.Analytic, Worst.Numeric, tolerance,
            Warnings.Count == 0 ? "" : "\nwarning: " + string.Join("\nwarning: ", Warnings));
    }

    internal sealed class Builder(GradCheckOptions options, GradCheckMode mode, List<string> warnings)
    {
        private int count;
        private double maxAbs, maxRel, worstAllowed, worstExcess = double.NegativeInfinity;
        private bool passed = true;
        private GradCheckEntry worst = new(-1, -1, -1, 0, 0);

        /// <summary>Compares one value; <paramref name="numericError"/> widens its tolerance (the measured error of the finite difference, or 0).</summary>
        public void Add(int input, int index, int outputIndex, double analytic, double numeric, double numericError = 0)
        {
            count++;
            double abs = Math.Abs(analytic - numeric);
            double rel = abs / Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(analytic)), 1e-300);
            double allowed = options.AbsoluteTolerance + options.RelativeTolerance * Math.Abs(numeric) + numericError;
            bool ok = abs <= allowed; // NaN fails
            if (!ok) passed = false;
            double excess = double.IsNaN(abs) ? double.PositiveInfinity : abs / allowed;
            if (double.IsNaN(abs)) { maxAbs = double.NaN; maxRel = double.NaN; }
            else { maxAbs = Math.Max(maxAbs, abs); maxRel = Math.Max(maxRel, abs == 0 ? 0 : rel); }
            if (excess > worstExcess) { worstExcess = excess; worstAllowed = allowed; worst = new(input, index, outputIndex, analytic, numeric); }
        }

        public GradCheckReport Build() => new()
        {
            Passed = passed && count > 0, Mode = mode, Compared = count, MaxAbsoluteError = maxAbs, MaxRelativeError = maxRel,
            Worst = worst, Warnings = warnings, Tolerance = options, WorstAllowed = worstAllowed,
        };
    }
}

/// <summary>
/// One compared value: input index and element (full mode; dy[OutputIndex]/dx[Input][Index]), or direction index
/// (directional mode: Input and OutputIndex are -1), with the analytic and the finite-difference derivative.
/// </summary>
public readonly record struct GradCheckEntry(int Input, int Index, int OutputIndex, double Analytic, double Numeric);
