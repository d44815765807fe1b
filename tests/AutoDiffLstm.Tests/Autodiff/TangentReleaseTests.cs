using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// Forward mode gives a tangent's storage back to the pool after the last operation that reads it
/// (<see cref="Tape.PushTangents"/> with the values to keep): same tangents, fewer fresh arrays, seeds never touched,
/// and a read after the release is an error, not a silent zero.
/// </summary>
public class TangentReleaseTests
{
    private static (double[] Tangent, long Bytes) Push(bool release)
    {
        var layer = RecurrentLayer.Lstm<double>(8, 8, new Rng(31));
        var names = layer.NamedParameters().Select(p => p.Key).ToArray();
        var theta = layer.NamedParameters().Select(p => p.Value).ToArray();
        var x = Tensor.RandomNormal<double>(new Rng(32), [40, 3, 8]);
        var v = theta.Select(p => Tensor.RandomNormal<double>(new Rng(33), [.. p.Shape])).ToArray();
        double[] tangent = [];
        long bytes = 0;
        for (int round = 0; round < 2; round++) // the second round runs on a warm pool
        {
            using var scope = Tape.UsePrivateTape();
            using var reuse = Tape.ReuseBuffers();
            using var stepwise = Compiler.StepByStep(); // as Autograd.Jvp records: each step's entries, whose tangents are released one by one
            var leaves = theta.Select(p => p.Detach().RequireGrad()).ToArray();
            var y = layer.WithParameters(names.Select((n, k) => KeyValuePair.Create(n, leaves[k]))).Forward(x).Output.Tanh().Sum();
            var pushed = new Tangents();
            for (int i = 0; i < leaves.Length; i++) pushed.Seed(leaves[i], v[i], "test");
            long before = GC.GetAllocatedBytesForCurrentThread();
            using (Autograd.NoGrad())
                Tape.Current.PushTangents(0, Tape.Current.Count, pushed, release ? new HashSet<TensorBase>([y], TensorIdentity.Instance) : null);
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            tangent = pushed.Of<double>(y)!.ToArray();
            Tape.Current.Reset();
        }
        return (tangent, bytes);
    }

    [Fact]
    public void ReleasingDeadTangentsGivesTheSameBitsWithFarFewerFreshArrays()
    {
        var (kept, keptBytes) = Push(release: false);
        var (released, releasedBytes) = Push(release: true);
        Assert.Equal(kept, released);
        Assert.True(releasedBytes < keptBytes / 2, $"with release the pass allocated {releasedBytes:N0} bytes, without {keptBytes:N0}");
    }

    [Fact]
    public void ATangentReadAfterItsReleaseIsAnError()
    {
        var t = Tensor.FromArray([1.0, 2.0], 2);
        var tangents = new Tangents();
        tangents.TrackStorage();
        tangents.Set(t, Tensor.FromArray([3.0, 4.0], 2), "test");
        tangents.Release(t);
        var ex = Assert.Throws<InvalidOperationException>(() => tangents.Of<double>(t));
        Assert.Contains("[2]", ex.Message);
    }

    [Fact]
    public void ASeedsStorageIsNeverGivenBack()
    {
        var leaf = Tensor.FromArray([1.0, 2.0], 2);
        var reader = Tensor.FromArray([0.0, 0.0], 2);
        var tangents = new Tangents();
        tangents.TrackStorage();
        Tensor<double> seed;
        using (Autograd.NoGrad()) seed = Tensor.FromArray([1.0, 1.0], 2) * 3.0; // engine-rented storage, made during the pass
        tangents.Seed(leaf, seed, "test");
        tangents.Set(reader, seed, "test"); // a rule that hands its input's tangent on
        tangents.Release(leaf);
        tangents.Release(reader);
        Assert.False(seed.IsRecycled);
        Assert.Equal([3.0, 3.0], seed.ToArray());
    }

    [Fact]
    public void SharedStorageGoesBackOnlyWhenItsLastTangentIsReleased()
    {
        var (a, b) = (Tensor.FromArray([1.0, 2.0], 2), Tensor.FromArray([1.0, 2.0], 2));
        var tangents = new Tangents();
        tangents.TrackStorage();
        Tensor<double> shared;
        using (Autograd.NoGrad()) shared = Tensor.FromArray([5.0, 6.0], 2) * 1.0; // a rule's result during the pass
        tangents.Set(a, shared, "test");
        tangents.Set(b, shared.Reshape(2), "test"); // a view of the same storage
        tangents.Release(a);
        Assert.False(shared.IsRecycled);
        Assert.Equal([5.0, 6.0], tangents.Of<double>(b)!.ToArray());
        tangents.Release(b);
        Assert.True(shared.IsRecycled);
    }

    [Fact]
    public void ATensorOlderThanThePassIsNeverGivenBack()
    {
        // A rule may hand on a constant it holds (a custom primitive's cached tensor): it predates the pass.
        Tensor<double> constant;
        using (Autograd.NoGrad()) constant = Tensor.FromArray([7.0, 8.0], 2) * 1.0;
        var t = Tensor.FromArray([0.0, 0.0], 2);
        var tangents = new Tangents();
        tangents.TrackStorage();
        tangents.Set(t, constant, "test");
        tangents.Release(t);
        Assert.False(constant.IsRecycled);
        Assert.Equal([7.0, 8.0], constant.ToArray());
    }
}
