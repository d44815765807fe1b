using AutoDiffLstm.Tasks;

namespace AutoDiffLstm.Tests.Tasks;

public class CharLanguageModelTests
{
    [Fact]
    public void TargetsAreTheInputsShiftedByOneWithinTheText()
    {
        const string text = "the quick brown fox jumps over the lazy dog";
        var task = new CharLanguageModel<double>(text, 6);
        Assert.Equal(" abcdefghijklmnopqrstuvwxyz", task.Vocabulary);
        const int batch = 20;
        var data = task.NextBatch(new Rng(1), batch);
        Assert.Equal([6, batch, 27], data.Inputs.Shape);
        var ids = data.InputIds!;
        var targets = data.ClassTargets!;
        for (int b = 0; b < batch; b++)
        {
            string input = task.Decode(Enumerable.Range(0, 6).Select(t => ids[t * batch + b]));
            string next = task.Decode(Enumerable.Range(0, 6).Select(t => targets[t * batch + b]));
            Assert.Equal(input[1..], next[..5]);
            // The window and its shifted copy are both in the text at consecutive offsets.
            bool found = false;
            for (int s = 0; s + 7 <= text.Length && !found; s++)
                found = text.Substring(s, 6) == input && text.Substring(s + 1, 6) == next;
            Assert.True(found, $"window '{input}' -> '{next}' is not a (text, text shifted by one) pair");
            for (int t = 0; t < 6; t++) Assert.Equal(1.0, data.Inputs[t, b, ids[t * batch + b]]);
        }
    }

    [Fact]
    public void WindowsReachBothEndsOfTheText()
    {
        // Text of 5 characters, T = 3: the starts 0 and 1 are the only valid ones (the last target is text[4]).
        var task = new CharLanguageModel<double>("abcde", 3);
        var data = task.NextBatch(new Rng(2), 200);
        var firsts = Enumerable.Range(0, 200).Select(b => data.InputIds![b]).Distinct().Order().ToArray();
        Assert.Equal([0, 1], firsts);
    }

    [Fact]
    public void BaselinesAreTheUnigramEntropyAndLogV()
    {
        var task = new CharLanguageModel<double>("aab", 1);
        double expected = -(2.0 / 3 * Math.Log(2.0 / 3) + 1.0 / 3 * Math.Log(1.0 / 3));
        Assert.Equal(expected, task.UnigramEntropy, 15);
        Assert.Equal(expected, task.Baseline.Loss, 15);
        Assert.Equal(Math.Log(2), task.UniformCrossEntropy, 15);
        Assert.Equal(2.0 / 3, task.Baseline.Accuracy!.Value, 15);
    }

    [Fact]
    public void ShippedCorpusLoadsAndItsBaselinesAreSensible()
    {
        var task = new CharLanguageModel<float>(100);
        Assert.StartsWith("In Congress, July 4, 1776.", task.Text);
        Assert.DoesNotContain('\r', task.Text);
        Assert.InRange(task.Text.Length, 7000, 20_000);
        Assert.InRange(task.Vocabulary.Length, 40, 80);
        Assert.True(task.UnigramEntropy < task.UniformCrossEntropy);
        Assert.InRange(task.UnigramEntropy, 2.5, 3.5);   // English letters: about 4.1 bits ≈ 2.9 nats
        Assert.Equal(task.Vocabulary.Length, task.InputSize);
        Assert.Equal(task.Vocabulary.Length, task.OutputSize);
    }

    [Fact]
    public void DeterministicWithSeed()
    {
        var task = new CharLanguageModel<double>(50);
        Assert.Equal(task.NextBatch(new Rng(7), 4).InputIds, task.NextBatch(new Rng(7), 4).InputIds);
        Assert.NotEqual(task.NextBatch(new Rng(7), 4).InputIds, task.NextBatch(new Rng(8), 4).InputIds);
    }

    [Fact]
    public void InvalidLengthsAndCharactersThrow()
    {
        var tooShort = Assert.Throws<ArgumentException>(() => new CharLanguageModel<double>("abcde", 0));
        Assert.Contains(">= 1", tooShort.Message);
        var tooLong = Assert.Throws<ArgumentException>(() => new CharLanguageModel<double>("abcde", 5));
        Assert.Contains("T <= 4", tooLong.Message);
        var unknown = Assert.Throws<ArgumentException>(() => new CharLanguageModel<double>("abcde", 2).Encode("abz"));
        Assert.Contains("'z'", unknown.Message);
    }
}
