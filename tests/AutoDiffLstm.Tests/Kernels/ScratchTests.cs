namespace AutoDiffLstm.Tests.Kernels;

/// <summary>The kernels' per-thread scratch arrays: long enough, reused, bounded, never shared with another thread.</summary>
public class ScratchTests
{
    [Fact]
    public void ARentedArrayIsLongEnoughAndComesBackOnTheNextRent()
    {
        var a = Scratch<float>.Rent(1000);
        Assert.True(a.Length >= 1000);
        Scratch<float>.Return(a);
        Assert.Same(a, Scratch<float>.Rent(500)); // shorter requests take a kept longer array
        var b = Scratch<float>.Rent(2000);        // a longer one is allocated: the kept array was out
        Assert.NotSame(a, b);
        Assert.True(b.Length >= 2000);
    }

    [Fact]
    public void TheSmallestKeptArrayMakesRoomWhenAllSlotsAreFull()
    {
        var arrays = Enumerable.Range(1, 6).Select(k => Scratch<double>.Rent(100_000 + k)).ToArray();
        foreach (var a in arrays) Scratch<double>.Return(a);
        Assert.True(Scratch<double>.KeptCount <= 4);
        Assert.Same(arrays[5], Scratch<double>.Rent(100_006)); // the longest was kept
    }

    [Fact]
    public void EachThreadHasItsOwnArrays()
    {
        var mine = Scratch<float>.Rent(64);
        Scratch<float>.Return(mine);
        float[]? theirs = null;
        var thread = new Thread(() => theirs = Scratch<float>.Rent(64));
        thread.Start();
        thread.Join();
        Assert.NotSame(mine, theirs);
    }
}
