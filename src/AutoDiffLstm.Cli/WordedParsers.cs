using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Cli;

/// <summary>
/// Gives every numeric option of every command a parser whose errors are words ("--seq-len: expected an integer, got
/// 'abc'"), not .NET type names, and that states the allowed range when a value is outside it ("--seed -1"). Installed
/// once on the whole command tree, so a command added later gets the same messages without doing anything.
/// </summary>
internal static class WordedParsers
{
    /// <summary>Ranges narrower than the type's, by option name: a hidden size whose weights cannot exist is refused while parsing.</summary>
    private static readonly Dictionary<string, (long Min, long Max)> Ranges = new()
    {
        ["--hidden"] = (1, TrainingOptions.MaxHidden),
        ["--threads"] = (1, 4096),
        ["--seq-len"] = (1, int.MaxValue), ["--batch"] = (1, int.MaxValue), ["--steps"] = (1, int.MaxValue),
        ["--layers"] = (1, int.MaxValue), ["--input-size"] = (1, int.MaxValue), ["--directions"] = (1, int.MaxValue),
        // 0 means "only at the end" for both (see TrainCommand), so 0 is in range and negatives are not.
        ["--eval-every"] = (0, int.MaxValue), ["--checkpoint-every"] = (0, int.MaxValue), ["--warmup"] = (0, int.MaxValue),
        ["--grad-checkpoint"] = (-1, int.MaxValue),
    };

    public static void Install(Command command)
    {
        foreach (var option in command.Options) Install(option);
        foreach (var sub in command.Subcommands) Install(sub);
    }

    private static void Install(Option option)
    {
        switch (option)
        {
            case Option<int> o when o.CustomParser is null: o.CustomParser = r => (int)Integer(r, int.MinValue, int.MaxValue); break;
            case Option<int?> o when o.CustomParser is null: o.CustomParser = r => (int)Integer(r, int.MinValue, int.MaxValue); break;
            case Option<ulong> o when o.CustomParser is null: o.CustomParser = UnsignedLong; break;
            case Option<double> o when o.CustomParser is null: o.CustomParser = Number; break;
            case Option<double?> o when o.CustomParser is null: o.CustomParser = r => Number(r); break;
        }
    }

    private static string Token(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";

    private static string Name(ArgumentResult r) => (r.Parent as OptionResult)?.Option.Name ?? r.Argument.Name;

    private static long Integer(ArgumentResult r, long min, long max)
    {
        string token = Token(r), name = Name(r);
        if (Ranges.TryGetValue(name, out var range)) (min, max) = (Math.Max(min, range.Min), Math.Min(max, range.Max));
        if (!long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            // Digits only but too many of them: out of range; anything else (1.5, abc) is not an integer at all.
            r.AddError(token.TrimStart('-', '+').Length > 0 && token.TrimStart('-', '+').All(char.IsAsciiDigit)
                ? $"{name}: expected an integer from {min} to {max}, got {token}."
                : $"{name}: expected an integer, got '{token}'.");
            return 0;
        }
        if (value < min || value > max) { r.AddError($"{name}: expected an integer from {min} to {max}, got {token}."); return 0; }
        return value;
    }

    private static ulong UnsignedLong(ArgumentResult r)
    {
        string token = Token(r), name = Name(r);
        if (ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)) return value;
        bool numeric = double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        r.AddError(numeric ? $"{name}: expected an integer from 0 to {ulong.MaxValue}, got {token}." : $"{name}: expected an integer, got '{token}'.");
        return 0;
    }

    private static double Number(ArgumentResult r)
    {
        string token = Token(r), name = Name(r);
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)) return value;
        r.AddError($"{name}: expected a finite number (e.g. 0.01 or 1e-3), got '{token}'.");
        return 0;
    }
}
