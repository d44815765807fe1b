namespace AutoDiffLstm.Tests.Cli;

/// <summary>--help of the program and of every subcommand, and malformed command lines.</summary>
public class HelpTests
{
    public static TheoryData<string, string[]> Subcommands() => new()
    {
        { "demo", ["--seq-len", "--steps", "--hidden", "--seed", "--out", "--json"] },
        { "gradflow", ["--cell", "--seq-len", "--hidden", "--batch", "--seed", "--out", "--json", "--forget-bias", "--radii", "--jacobian", "--lyapunov"] },
        {
            "train", ["--cell", "--task", "--seq-len", "--hidden", "--batch", "--steps", "--lr", "--clip", "--clip-value", "--seed", "--out",
                "--json", "--optimizer", "--schedule", "--warmup", "--weight-decay", "--layers", "--residual", "--forget-bias", "--eval-every",
                "--double", "--checkpoint-every", "--resume"]
        },
        { "gradcheck", ["--cell", "--seq-len", "--hidden", "--batch", "--seed", "--json", "--layers", "--input-size", "--directions"] },
        { "compare", ["--study", "--task", "--seq-len", "--hidden", "--batch", "--steps", "--lr", "--clip", "--seed", "--out", "--json", "--cell"] },
    };

    [Theory]
    [MemberData(nameof(Subcommands))]
    public void HelpOfEverySubcommandListsItsOptions(string command, string[] options)
    {
        var result = CliRun.Expect(0, command, "--help");
        // The usage line starts with the executable's name: adl, or the test host here.
        Assert.Contains("Usage:", result.Out);
        Assert.Contains($" {command} [options]", result.Out);
        foreach (var option in options) Assert.Contains(option, result.Out);
        Assert.Empty(result.Err);
    }

    [Fact]
    public void HelpOfTheProgramListsTheSubcommands()
    {
        var result = CliRun.Expect(0, "--help");
        foreach (var (command, _) in Subcommands().Select(row => ((string)row[0], 0))) Assert.Contains(command, result.Out);
    }

    [Fact]
    public void NamesInHelpTextListTheValidValues()
    {
        var train = CliRun.Expect(0, "train", "--help").Out;
        Assert.Contains("rnn, rnn-relu, irnn, lstm, gru", train);
        Assert.Contains("adding, copy, temporal-order, char-lm", train);
        Assert.Contains("adam, adamw, sgd, momentum, nesterov, rmsprop", train);
    }

    [Fact]
    public void NoArgumentsShowTheHelp()
    {
        var result = CliRun.Expect(0);
        Assert.Contains("Usage:", result.Out);
        foreach (var (command, _) in Subcommands().Select(row => ((string)row[0], 0))) Assert.Contains(command, result.Out);
        Assert.Empty(result.Err);
    }

    [Theory]
    [InlineData("unknown command 'bogus'. Commands: demo, gradflow, train", "bogus")]
    [InlineData("unknown command 'trian'; did you mean train?", "trian")]
    [InlineData("unknown command 'gradflwo'; did you mean gradflow?", "gradflwo")]
    [InlineData("unknown option '--nonsense' for 'train'.", "train", "--nonsense")]
    [InlineData("unknown option '--seq-lenn' for 'train'; did you mean --seq-len?", "train", "--seq-lenn", "5")]
    [InlineData("--hidden: expected an integer, got 'many'.", "train", "--hidden", "many")]
    [InlineData("--seq-len: expected an integer, got 'abc'.", "train", "--seq-len", "abc")]
    [InlineData("--steps: expected an integer, got '1.5'.", "train", "--steps", "1.5")]
    [InlineData("--seed: expected an integer from 0 to 18446744073709551615, got -1.", "train", "--seed", "-1")]
    [InlineData("--hidden: expected an integer from 1 to 16384, got 100000.", "train", "--hidden", "100000")]
    [InlineData("--hidden: expected an integer from 1 to 16384, got 100000.", "gradflow", "--hidden", "100000")]
    [InlineData("--seq-len: expected an integer from 1 to 2147483647, got 99999999999.", "gradcheck", "--seq-len", "99999999999")]
    [InlineData("--lr: expected a finite number (e.g. 0.01 or 1e-3), got 'fast'.", "compare", "--lr", "fast")]
    [InlineData("--eval-every: expected an integer from 0 to 2147483647, got -5.", "train", "--eval-every", "-5")]
    public void AMalformedCommandLineExitsWithTwoAndSaysWhatWasExpected(string message, params string[] args)
    {
        var result = CliRun.Expect(2, args);
        Assert.Contains("error: " + message, result.Err);
        Assert.Contains("--help", result.Err);
        // Words, not .NET type names.
        Assert.DoesNotContain("System.", result.Err);
        // The value of a mistyped option is not reported as a second mistake.
        Assert.DoesNotContain("unexpected argument", result.Err);
        Assert.Empty(result.Out);
    }

    [Fact]
    public void TheHelpStatesTheOneRuleForZeroIntervals()
    {
        var train = CliRun.Expect(0, "train", "--help").Out;
        Assert.Contains("Evaluate on the held-out batch every N steps; 0: only at the end", train);
        Assert.Contains("Also write the checkpoint every N steps; 0: only at the end", train);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("gradflow")]
    [InlineData("compare")]
    public void TheNearestNameIsFoundByEditDistance(string expected)
    {
        Assert.Equal(expected, AutoDiffLstm.Cli.Suggestions.Nearest(expected[1..] + expected[0], ["demo", "gradflow", "train", "gradcheck", "compare", "paper"]));
        Assert.Null(AutoDiffLstm.Cli.Suggestions.Nearest("xyzzy", ["demo", "gradflow", "train"]));
    }
}
