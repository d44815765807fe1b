using System.Numerics;
using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// Buffer reuse in training loops: the opt-in mode trains bit-identically to the default mode (also on several
/// threads at once), steady-state iterations allocate almost nothing, and the storage a long sequence needs stays
/// within twice the activations the tape must keep.
/// </summary>
public class BufferReuseTrainingTests
{
    /// <summary>
    /// A masked LSTM layer, a read-out and a loss that passes through every primitive whose backward rule uses a
    /// temporary buffer (Subtract, Divide, Transpose, Softmax, LogSoftmax, Pow, MeanSquaredError, CrossEntropy,
    /// broadcast Multiply) and through Where, Concat and Narrow via the unroll. Returns the loss of every iteration
    /// followed by every parameter value at the end.
    /// </summary>
    private static List<double> Train<T>(bool reuse, int iterations = 5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int steps = 6, batch = 3, input = 4, hidden = 5, classes = 3;
        var rng = new Rng(11);
        var layer = new RecurrentLayer<T>((i, r) => new LstmCell<T>(i, hidden, r), input, rng);
        var readout = Tensor.RandomNormal<T>(rng, [classes, hidden], std: 0.5).RequireGrad();
        var bias = Tensor.RandomNormal<T>(rng, [classes]).RequireGrad();
        var parameters = layer.NamedParameters().Select(p => p.Value).Append(readout).Append(bias).ToArray();
        var optimizer = new Adam<T>(parameters, learningRate: 0.05);
        var results = new List<double>();
        for (int it = 0; it < iterations; it++)
        {
            var data = new Rng((ulong)(100 + it));
            var x = Tensor.RandomNormal<T>(data, [steps, batch, input]);
            var targets = Enumerable.Range(0, steps * batch).Select(_ => data.NextInt(classes)).ToArray();
            var probabilities = Tensor.RandomUniform<T>(data, [steps * batch, classes]);
            optimizer.ZeroGrad();
            using (reuse ? Tape.ReuseBuffers() : default)
            {
                var output = layer.Forward(x, new SequenceOptions<T> { Lengths = [6, 4, 5] }).Output;
                var logits = output.Reshape(-1, hidden).Linear(readout, bias);                      // [T*B, C]
                var centered = logits - logits.Mean(0, keepDim: true);                              // broadcast Subtract
                var scaled = centered / (centered.Square().Mean(0, keepDim: true) + T.One).Sqrt();  // broadcast Divide
                var loss = logits.CrossEntropy(targets)
                    + logits.Softmax().MeanSquaredError(probabilities)
                    - logits.LogSoftmax(0).Mean()
                    + scaled.Transpose(0, 1).Pow(3).Clamp(-4, 4).Sum() * T.CreateChecked(0.01)
                    + (scaled * bias).Relu().Mean()                                                   // broadcast Multiply
                    + (scaled.Exp() + T.One).Log().Mean();
                results.Add(double.CreateChecked(loss.Item()));
                loss.Backward();
            }
            optimizer.Step();
        }
        foreach (var p in parameters) results.AddRange(p.ToArray().Select(v => double.CreateChecked(v)));
        return results;
    }

    [Fact]
    public void ReuseGivesBitIdenticalTrainingInDouble() => Assert.Equal(Train<double>(reuse: false), Train<double>(reuse: true));

    [Fact]
    public void ReuseGivesBitIdenticalTrainingInFloat() => Assert.Equal(Train<float>(reuse: false), Train<float>(reuse: true));

    [Fact]
    public void ConcurrentTrainingLoopsOnSeveralThreadsMatchTheSingleThreadedRun()
    {
        var expected = Train<double>(reuse: false);
        var results = new List<double>[4];
        var threads = Enumerable.Range(0, results.Length).Select(i => new Thread(() => results[i] = Train<double>(reuse: true, iterations: 5))).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        foreach (var r in results) Assert.Equal(expected, r);
    }

    [Fact]
    public void TheTrainerGivesTheSameRunWithAndWithoutReuse()
    {
        var options = new TrainingOptions { Task = "adding", SequenceLength = 12, Hidden = 8, Batch = 4, Steps = 6, EvalEvery = 3, EvalBatch = 8, ClipNorm = 1.0 };
        var plain = new Trainer<float>(options) { ReuseBuffers = false }.Run();
        var reusing = new Trainer<float>(options).Run();
        Assert.Equal(plain.Steps.Select(s => (s.Loss, s.GradNorm)), reusing.Steps.Select(s => (s.Loss, s.GradNorm)));
        Assert.Equal(plain.Evaluations.Select(e => e.Loss), reusing.Evaluations.Select(e => e.Loss));
    }

    /// <summary>
    /// The benchmark's W3 workload (T=100, B=8, I=H=32, float) as a training loop: forward, loss, backward, SGD step,
    /// gradients zeroed in place. Before buffer reuse it allocated about 6.9 MB per iteration (mostly tensor storage).
    /// </summary>
    private static long BytesPerIteration(bool reuse)
    {
        var rng = new Rng(3);
        var layer = new RecurrentLayer<float>((i, r) => new LstmCell<float>(i, 32, r), 32, rng);
        var parameters = layer.NamedParameters().Select(p => p.Value).ToArray();
        var optimizer = new Sgd<float>(parameters, learningRate: 1e-3);
        var x = Tensor.RandomNormal<float>(rng, [100, 8, 32]);
        void Iteration()
        {
            optimizer.ZeroGrad(setToNull: false);
            using (reuse ? Tape.ReuseBuffers() : default)
                layer.Forward(x).Output.Sum().Backward();
            optimizer.Step();
        }
        for (int i = 0; i < 4; i++) Iteration(); // warm-up: the pool fills, the JIT compiles
        const int measured = 6;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < measured; i++) Iteration();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / measured;
    }

    [Fact]
    public void SteadyStateIterationsAllocateAlmostNothing()
    {
        long reusing = BytesPerIteration(reuse: true);
        long plain = BytesPerIteration(reuse: false);
        // The unroll is one compiled sequence: what is left is a few dozen small objects per iteration (5 KB measured;
        // recorded step by step it was the tensor objects and shape arrays of ~1,700 operations, 240 KB), against the
        // 3.4 MB allocated without reuse (itself half of the 6.9 MB before pooling).
        Assert.True(reusing < 8 * 1024, $"{reusing:N0} bytes per iteration with buffer reuse; expected < 8 KB");
        Assert.True(reusing * 10 < plain, $"{reusing:N0} bytes per iteration with reuse vs {plain:N0} without: expected at least 10x less");
    }

    /// <summary>
    /// A batch-1 LSTM trained with gradient checkpointing under ReuseBuffers: managed bytes per steady-state iteration,
    /// the engine's retained buffers after the last two iterations, and the bytes of activations the tape held when forward ended.
    /// </summary>
    private static (long Allocated, long Retained1, long Retained2, long Activations) CheckpointedIteration(int checkpointEvery)
    {
        Tape.ClearBufferPool();
        var rng = new Rng(5);
        var layer = new RecurrentLayer<double>((i, r) => new LstmCell<double>(i, 16, r), 16, rng);
        var parameters = layer.NamedParameters().Select(p => p.Value).ToArray();
        var x = Tensor.RandomNormal<double>(rng, [200, 1, 16]).RequireGrad();
        long activations = 0;
        void Iteration()
        {
            using var reuse = Tape.ReuseBuffers();
            foreach (var p in parameters.Append(x)) p.Grad?.AsWritableSpan().Clear();
            var loss = layer.Forward(x, new SequenceOptions<double> { CheckpointEvery = checkpointEvery }).Output.Sum();
            activations = Tape.Current.ActivationBytes();
            loss.Backward();
        }
        for (int i = 0; i < 3; i++) Iteration();
        const int measured = 4;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < measured; i++) Iteration();
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / measured;
        long retained1 = Tape.RetainedBufferBytes;
        Iteration();
        long retained2 = Tape.RetainedBufferBytes;
        Tape.ClearBufferPool();
        return (allocated, retained1, retained2, activations);
    }

    [Fact]
    public void ACheckpointedTrainingLoopReusesItsSegmentsStorageAndTapes()
    {
        // Before segments gave their storage back and private tapes were reused, the checkpointed loop allocated every
        // recomputed activation and a tape per segment: 11x the plain loop at W4 (20 MB against 1.8 MB per iteration).
        // Now each of its 15 segments (one compiled sequence each) allocates a few small objects per run, forward and
        // recomputation, and no storage: measured 255 KB against 333 KB of activations that the plain pass holds
        // (whose one compiled sequence allocates 7 KB per iteration, and keeps only the values backward reads). A loop
        // that allocated its recomputed activations afresh would allocate more than them.
        var plain = CheckpointedIteration(0);
        var checkpointed = CheckpointedIteration(GradientCheckpoint.SqrtSteps);
        Assert.True(checkpointed.Allocated < plain.Activations,
            $"checkpointed: {checkpointed.Allocated:N0} bytes per iteration; the plain pass's activations: {plain.Activations:N0}; expected fewer");
        Assert.Equal(checkpointed.Retained1, checkpointed.Retained2); // a steady state: the pool does not grow
        Assert.True(checkpointed.Retained1 < plain.Retained1, $"checkpointed pool {checkpointed.Retained1:N0} bytes, plain {plain.Retained1:N0}");
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn")]
    public void ALongSequenceNeedsLessThanTwiceTheActivationsTheTapeKeeps(string cell)
    {
        // W4: T=1000, B=1, I=H=64, double. The peak is the most storage in use at one moment of a steady-state
        // iteration: the rise of the pool's in-use count during it, plus what stays in use throughout (the leaves'
        // gradients, never pooled, and the arrays that gather small products' weight-gradient rows). Under ReuseBuffers
        // every array the iteration used is back in the pool by its end, so the pool after it bounds that peak.
        Tape.ClearBufferPool();
        var rng = new Rng(1);
        var layer = cell switch
        {
            "lstm" => RecurrentLayer.Lstm<double>(64, 64, rng),
            "gru" => RecurrentLayer.Gru<double>(64, 64, rng),
            _ => RecurrentLayer.Rnn<double>(64, 64, rng),
        };
        var parameters = layer.NamedParameters().Select(p => p.Value).ToArray();
        var x = Tensor.RandomNormal<double>(rng, [1000, 1, 64]).RequireGrad();
        long activations = 0, start = 0;
        for (int i = 0; i < 2; i++) // the first iteration fills the pool, the second takes everything from it
        {
            start = Tape.StorageInUseBytes;
            Tape.ResetPeakStorage();
            using var reuse = Tape.ReuseBuffers();
            foreach (var p in parameters.Append(x)) p.Grad?.AsWritableSpan().Clear();
            var loss = layer.Forward(x).Output.Sum();
            activations = Tape.Current.ActivationBytes();
            loss.Backward();
        }
        long leafGradients = parameters.Append(x).Sum(p => (long)p.Grad!.Size * sizeof(double));
        // Per-step products of batch 1 gather the rows of the weight gradients in arrays of their own, outside the pool
        // (a step run as one compiled sequence keeps its rows in its buffer instead): count them.
        Assert.True(Tape.RetainedBufferBytes >= Tape.PooledBytes, "the engine's retained buffers include the pool");
        long stacks = Tape.RetainedBufferBytes - Tape.PooledBytes;
        long peak = Tape.PeakStorageInUseBytes - start + leafGradients + stacks;
        // Everything the iteration rented came back but the loss and the final states, which stay valid for the caller
        // (one or two [1, 64] values and a scalar: 520 or 1,032 bytes); what was in use at the peak is in the pool now or
        // still kept.
        long kept = Tape.StorageInUseBytes - start;
        long bound = Tape.RetainedBufferBytes + leafGradients + kept;
        Assert.True(kept >= 0 && kept <= 2 * 64 * sizeof(double) + sizeof(double), $"{kept:N0} bytes of the iteration's storage were not given back");
        // The smallest, an Elman cell, keeps its projected inputs, its stacked states and tanh's outputs: 1.5 MB.
        Assert.True(activations > 1_000_000, $"the tape kept {activations:N0} bytes; a W4 unroll keeps more than 1 MB");
        Assert.True(peak >= activations + leafGradients, $"peak {peak:N0} bytes, below the {activations + leafGradients:N0} live when forward ends");
        Assert.True(peak <= bound, $"peak {peak:N0} bytes above the pool's bound {bound:N0}");
        // Backward's working memory stays below the activations it reads. The leaves' gradients are the caller's results,
        // not working memory (x's alone is as large as the input), and weigh more now that a whole sequence keeps only
        // what backward reads (an Elman cell: 1.5 MB of activations, 0.6 MB of leaf gradients).
        Assert.True(peak < 2 * activations + leafGradients, $"peak tensor storage {peak:N0} bytes vs {activations:N0} bytes of activations and {leafGradients:N0} of leaf gradients: expected < 2x the activations + the leaf gradients");
        Tape.ClearBufferPool();
        Assert.Equal(0, Tape.RetainedBufferBytes);
    }
}
