using AutoDiffLstm.Experiments.Notebooks;

namespace AutoDiffLstm.Tests.Notebooks;

public class TextTableTests
{
    [Fact]
    public void ColumnsAreAlignedNumbersToTheRightTextToTheLeft()
    {
        var table = new TextTable("cell", "loss", "steps")
            .AddRow("lstm", 0.012345678, 300)
            .AddRow("gru (fast)", 12.5, 7);

        Assert.Equal(
            "cell           loss  steps\n" +
            "----------  -------  -----\n" +
            "lstm        0.01235    300\n" +
            "gru (fast)     12.5      7",
            Normalise(table.ToString()));
    }

    [Fact]
    public void NumbersUseTheInvariantCultureAndTheChosenFormat()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            // A culture with a decimal comma (named cultures are unavailable in globalization-invariant mode).
            var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            Thread.CurrentThread.CurrentCulture = comma;
            Assert.Equal("2,5", 2.5.ToString());
            var table = new TextTable("x") { NumberFormat = "F2" }.AddRow(1234.5678).AddRow(double.NaN).AddRow(2.5f);
            Assert.Equal(["1234.57", "NaN", "2.50"], Lines(table).Skip(2).Select(l => l.Trim()));
        }
        finally { Thread.CurrentThread.CurrentCulture = previous; }
    }

    [Fact]
    public void NullCellsAreBlankAndAMixedColumnKeepsTextLeftAligned()
    {
        var table = new TextTable("name", "value").AddRow("a", null).AddRow("b", "n/a").AddRow("c", 3.0);
        var lines = Lines(table);
        Assert.Equal("a", lines[2]);
        Assert.Equal("b     n/a", lines[3]);
        Assert.Equal("c         3", lines[4]);
    }

    [Fact]
    public void FromBuildsOneRowPerItem()
    {
        var table = TextTable.From(new[] { (Name: "x", Value: 1.5), (Name: "yy", Value: -2.0) }, ("name", r => r.Name), ("value", r => r.Value));
        Assert.Equal(2, table.RowCount);
        Assert.Equal(["name", "value"], table.Headers);
        Assert.Equal(["x       1.5", "yy       -2"], Lines(table).Skip(2));
    }

    [Fact]
    public void ARowOfTheWrongWidthIsRejectedNamingTheColumns()
    {
        var e = Assert.Throws<ArgumentException>(() => new TextTable("a", "b").AddRow(1.0));
        Assert.Contains("1 values for 2 columns (a, b)", e.Message);
        Assert.Throws<ArgumentException>(() => new TextTable());
    }

    [Fact]
    public void DisplayShowsTheTableAsHtmlWithTheAlignedTextAsFallback()
    {
        var table = new TextTable("a").AddRow(1.0);
        var bundle = DisplayFormatter.Format(table);
        Assert.Equal([DisplayFormatter.Html, DisplayFormatter.PlainText], bundle.Keys);
        Assert.Equal(table.ToString(), bundle[DisplayFormatter.PlainText]);
        Assert.Equal(table.ToHtml(), bundle[DisplayFormatter.Html]);
    }

    [Fact]
    public void HtmlHasAHeaderRowEncodedCellsAndNumbersRightAligned()
    {
        var table = new TextTable("cell", "loss <final>").AddRow("lstm & co", 0.5).AddRow("gru", 0.25);
        Assert.Equal(
            "<table class=\"adl-table\"><thead><tr><th style=\"text-align:left\">cell</th><th style=\"text-align:right\">loss &lt;final&gt;</th></tr></thead>" +
            "<tbody><tr><td style=\"text-align:left\">lstm &amp; co</td><td style=\"text-align:right\">0.5</td></tr>" +
            "<tr><td style=\"text-align:left\">gru</td><td style=\"text-align:right\">0.25</td></tr></tbody></table>",
            table.ToHtml());
    }

    private static string Normalise(string text) => text.Replace("\r\n", "\n");

    private static string[] Lines(TextTable table) => Normalise(table.ToString()).Split('\n');
}
