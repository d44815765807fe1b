namespace AutoDiffLstm.Tests.Cli;

/// <summary>--help of the program and of every subcommand, and malformed command lines.</summary>
public class HelpTests
{
    public static TheoryData<string, string[]> Subcommands() => new()
    {
        { "demo", ["--seq-len", "--steps", "--hidden", "--seed", "--out", "--json"] },
        { "gradflow", ["--cell", "--seq-len", "--hidden", "--batch", "--seed", "--out", "--json", "--forget-bias", "--radii", "--jacobian"] },
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

    [Theory]
    [InlineData("Required command was not provided")]
    [InlineData("Unrecognized command or argument 'bogus'", "bogus")]
    [InlineData("Unrecognized command or argument '--nonsense'", "train", "--nonsense")]
    [InlineData("'many' for option '--hidden'", "train", "--hidden", "many")]
    public void AMalformedCommandLineExitsWithTwo(string message, params string[] args)
    {
        var result = CliRun.Expect(2, args);
        Assert.Contains(message, result.Err);
        Assert.Contains("--help", result.Err);
    }
}
