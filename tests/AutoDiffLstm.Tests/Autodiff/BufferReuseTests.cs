namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// The contract of <see cref="Tape.ReuseBuffers"/>: outside the scope no forward value is ever recycled; inside it,
/// what recorded operations computed is recycled at the tape's next reset, and every way of reading it afterwards
/// fails loudly; the loss, detached tensors, unrecorded results, leaves and gradients survive; and a buffer is never
/// free while a live tape entry holds it.
/// </summary>
public class BufferReuseTests
{
    private static readonly double[] X = [0.3, -0.7, 1.1, 0.05, -1.9, 0.6];

    private static Tensor<double> Leaf() => Tensor.FromArray(X, 2, 3).RequireGrad();

    [Fact]
    public void WithoutTheScopeIntermediatesKeepTheirValuesAcrossIterations()
    {
        var x = Leaf();
        var h = x.Tanh();
        var before = h.ToArray();
        h.Sum().Backward();
        for (int i = 0; i < 3; i++) (Leaf().Tanh() * 2.0).Sum().Backward(); // same sizes: would reuse h's storage if it were free
        Assert.False(h.IsRecycled);
        Assert.Equal(before, h.ToArray());
    }

    [Fact]
    public void InTheScopeIntermediatesAreRecycledAtTheResetThatEndsBackward()
    {
        Tensor<double> h, loss;
        using (Tape.ReuseBuffers())
        {
            h = Leaf().Tanh();
            loss = h.Sum();
            Assert.False(h.IsRecycled);
            loss.Backward();
        }
        Assert.True(h.IsRecycled);
        foreach (var read in new Action[] { () => h.AsSpan(), () => h.ToArray(), () => _ = h[0, 0], () => h.Clone(), () => h.Detach(), () => h.AsWritableSpan() })
        {
            var error = Assert.Throws<InvalidOperationException>(read);
            Assert.Contains("Tape.ReuseBuffers", error.Message);
        }
        var opError = Assert.Throws<InvalidOperationException>(() => h.Exp());
        Assert.Contains("Exp", opError.Message);
        Assert.Contains("recycled", opError.Message);
        Assert.Contains("recycled", h.ToString()); // a debugger display must not throw
        Assert.Equal(X.Select(Math.Tanh).Sum(), loss.Item(), 12); // the tensor backward started from stays valid
    }

    [Fact]
    public void AnExplicitResetRecyclesToo()
    {
        using var reuse = Tape.ReuseBuffers();
        var y = Leaf() * 3.0;
        Tape.Current.Reset();
        Assert.True(y.IsRecycled);
        Assert.Throws<InvalidOperationException>(() => y.Item());
    }

    [Fact]
    public void DetachedTensorsKeepTheirValuesAcrossIterations()
    {
        // Truncated BPTT across batches: the final state is detached and carried into the next iteration.
        using var reuse = Tape.ReuseBuffers();
        var state = Tensor.Zeros<double>(2, 3);
        var carried = new List<(Tensor<double> Tensor, double[] Values)>();
        for (int i = 0; i < 4; i++)
        {
            var next = (Leaf() + state).Tanh();
            state = next.Detach();
            carried.Add((state, state.ToArray()));
            next.Sum().Backward();
        }
        foreach (var (tensor, values) in carried)
        {
            Assert.False(tensor.IsRecycled);
            Assert.Equal(values, tensor.ToArray());
        }
    }

    [Fact]
    public void ViewsTheTapeDoesNotSeeKeepTheirSourceAlive()
    {
        using var reuse = Tape.ReuseBuffers();
        var h = Leaf().Sigmoid();
        Tensor<double> flat;
        using (Autograd.NoGrad()) flat = h.Reshape(6); // not recorded: shares h's storage behind the tape's back
        var values = flat.ToArray();
        h.Sum().Backward();
        for (int i = 0; i < 3; i++) Leaf().Sigmoid().Sum().Backward();
        Assert.False(flat.IsRecycled);
        Assert.False(h.IsRecycled);
        Assert.Equal(values, flat.ToArray());
    }

    [Fact]
    public void UnrecordedResultsAndLeavesAreNeverRecycled()
    {
        using var reuse = Tape.ReuseBuffers();
        var constant = Tensor.FromArray(X, 2, 3);      // needs no gradient: operations on it are not recorded
        var unrecorded = constant.Tanh();
        Tensor<double> evaluated;
        var x = Leaf();
        using (Autograd.NoGrad()) evaluated = x.Exp();
        var (u, e) = (unrecorded.ToArray(), evaluated.ToArray());
        (x.Tanh() * unrecorded).Sum().Backward();
        for (int i = 0; i < 3; i++) (Leaf().Tanh() * Leaf().Exp()).Sum().Backward();
        Assert.Equal(u, unrecorded.ToArray());
        Assert.Equal(e, evaluated.ToArray());
        Assert.Equal(X, x.ToArray());
        Assert.False(x.IsRecycled);
    }

    [Fact]
    public void OnlyOperationsRecordedInsideTheScopeAreRecycled()
    {
        var before = Leaf().Tanh();
        Tensor<double> inside;
        using (Tape.ReuseBuffers()) inside = before * 2.0;
        var after = before * 3.0;
        var values = before.ToArray();
        (inside + after).Sum().Backward();
        Assert.False(before.IsRecycled);
        Assert.False(after.IsRecycled);
        Assert.True(inside.IsRecycled);
        Assert.Equal(values, before.ToArray());
    }

    [Fact]
    public void AFreeBufferIsNeverHeldByALiveTapeEntry()
    {
        // Several iterations of a graph with views (Reshape, Chunk, Select) and retained passes: after every forward,
        // and after a retained backward, each recorded output's storage is owned once and is not in the pool.
        var x = Tensor.RandomNormal<double>(new Rng(5), [4, 2, 6]).RequireGrad();
        var w = Tensor.RandomNormal<double>(new Rng(6), [8, 6]).RequireGrad();
        using var reuse = Tape.ReuseBuffers();
        for (int iteration = 0; iteration < 4; iteration++)
        {
            var gates = x.Reshape(8, 6).Linear(w).Chunk(2, -1);
            var h = (gates[0].Sigmoid() * gates[1].Tanh()).Reshape(4, 2, 4);
            var loss = Tensor.Stack(0, [h.Select(0, 0), h.Select(0, 3)]).Square().Sum();
            AssertOwnershipIsConsistent();
            loss.Backward(retainGraph: true);
            AssertOwnershipIsConsistent();
            Assert.False(BufferPool<double>.Contains(x.Grad!.Data));
            Assert.False(BufferPool<double>.Contains(w.Grad!.Data));
            Tape.Current.Reset();
        }
    }

    private static void AssertOwnershipIsConsistent()
    {
        var tape = Tape.Current;
        var owners = new HashSet<double[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < tape.Count; i++)
        {
            var output = (Tensor<double>)tape.RecordedOutput(i);
            Assert.False(output.IsRecycled);
            Assert.False(BufferPool<double>.Contains(output.Data), $"entry {i} ({tape.OperationNames()[i]}) holds a free buffer");
            if (output.StorageOwner is null) Assert.True(owners.Add(output.Data), $"entry {i} shares storage it does not own");
            else Assert.Same(((Tensor<double>)output.StorageOwner).Data, output.Data);
        }
    }

    [Fact]
    public void ANestedPrivateTapeLeavesTheOuterGraphIntact()
    {
        // GradCheck records and resets its own tape on this thread in the middle of the caller's graph.
        Tensor<double> reference;
        {
            var x = Leaf();
            var h = x.Tanh();
            (h * h.Exp()).Sum().Backward();
            reference = x.Grad!;
        }
        using var reuse = Tape.ReuseBuffers();
        var x2 = Leaf();
        var h2 = x2.Tanh();
        var values = h2.ToArray();
        var report = GradCheck.Check(v => (v * h2).Tanh().Sum(), Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3));
        Assert.True(report.Passed, report.ToString());
        Assert.False(h2.IsRecycled);
        Assert.Equal(values, h2.ToArray());
        (h2 * h2.Exp()).Sum().Backward();
        Assert.Equal(reference.ToArray(), x2.Grad!.ToArray());
    }

    [Fact]
    public void LeafAndRetainedGradientsAreNeverPooled()
    {
        using var reuse = Tape.ReuseBuffers();
        var kept = new List<(Tensor<double> Grad, double[] Values)>();
        for (int i = 0; i < 4; i++)
        {
            var x = Leaf();
            var h = (x * (i + 1.0)).Tanh().RetainGrad();
            (h * h).Sum().Backward();
            kept.Add((x.Grad!, x.Grad!.ToArray()));
            kept.Add((h.Grad!, h.Grad!.ToArray()));
            x.ZeroGrad(); // the old gradient tensor must stay valid for whoever holds it
        }
        foreach (var (grad, values) in kept)
        {
            Assert.False(BufferPool<double>.Contains(grad.Data));
            Assert.Equal(values, grad.ToArray());
        }
    }

    [Fact]
    public void IntermediateGradientsGoBackToThePoolOnceConsumed()
    {
        Tape.ClearBufferPool();
        var x = Leaf();
        var a = x.Tanh();
        var b = a.Exp();
        b.Sum().Backward();
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
        // Freed in turn: dL/dloss (1 element) after Sum's rule, dL/db (6) after Exp's, which Tanh's rule then takes
        // as dL/dx, and dL/da (6) after Tanh's. The leaf keeps its gradient; the other two are free.
        Assert.Equal((1 + 6) * sizeof(double), Tape.PooledBytes);
        Assert.False(BufferPool<double>.Contains(x.Grad!.Data));
    }

    [Fact]
    public void AnomalyModePoisonsRecycledStorage()
    {
        using var anomaly = Autograd.DetectAnomaly();
        using var reuse = Tape.ReuseBuffers();
        var h = Leaf().Tanh();
        var storage = h.Data;
        h.Sum().Backward();
        Assert.All(storage, v => Assert.True(double.IsNaN(v)));
        // The poisoned buffers are handed out again and fully overwritten: no false anomaly in later iterations.
        for (int i = 0; i < 3; i++) Leaf().Tanh().Sum().Backward();
    }

    [Fact]
    public void ActivationBytesCountsEachOutputStorageOnce()
    {
        Tape.Current.Reset();
        var x = Leaf();
        var y = x.Tanh();            // 6 doubles
        var flat = y.Reshape(6);     // a view: no storage of its own
        var s = flat.Sum();          // 1 double
        Assert.Equal(7 * sizeof(double), Tape.Current.ActivationBytes());
        s.Backward();
        Assert.Equal(0, Tape.Current.ActivationBytes());
    }
}
