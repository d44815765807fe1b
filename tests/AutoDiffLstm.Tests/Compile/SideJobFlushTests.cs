using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tests.Kernels;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// On two threads a compiled sequence's backward hands its larger weight-gradient products to a worker as side jobs
/// while it goes on with the next steps, in a second pair of batch buffers. Each waits for the one before, so every
/// value and gradient must be the same bits as on one thread. Alone in the MaxThreads collection: it changes
/// process-wide settings, and needs the worker to itself.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class SideJobFlushTests
{
    public static TheoryData<string> Cells() => [.. CellRegistry.Names];

    // H = 128, B = 32: a batch of eight steps is 256 rows, so an LSTM's dL/dW_hh product (512 x 128 x 256) and even an
    // Elman cell's (128 x 128 x 256) are large enough to be split over two threads, and so go to the side lane. T = 20:
    // two full batches and a partial one, the last flushed at the end of the pass.
    private static double[][] Run(string name, int threads, bool reverse = false, int detachEvery = 0, int checkpointEvery = 0)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            return PassValues.Of(name, input: 16, hidden: 128, steps: 20, batch: 32, reverse, detachEvery, checkpointEvery);
        }
        finally { Parallelism.MaxThreads = saved; }
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void WeightGradientsAddedOnTheSideLaneAreTheBitsOfOneThread(string name)
    {
        var one = Run(name, threads: 1);
        long before = WorkerTeam.SideJobsPosted;
        var two = Run(name, threads: 2);
        for (int k = 0; k < one.Length; k++) Assert.Equal(one[k], two[k]);
        // The premise: a cell whose step runs as one compiled sequence with a recurrent product posted its batches.
        var cell = CellRegistry.Create<double>(name, 16, 128, new Rng(1));
        if (cell.ExplainCompiledStep(32).Contains("Linear(in1") && cell.ExplainCompiledStep(32).Contains("the whole sequence as one tape entry"))
            Assert.True(WorkerTeam.SideJobsPosted > before, $"{name}: no weight-gradient product went to the side lane");
    }

    [Theory]
    [InlineData(true, 0, 0)]
    [InlineData(false, 6, 0)]
    [InlineData(false, 0, 10)]   // checkpointed: each segment's sequence is recomputed and differentiated inside backward
    public void ReversedTruncatedAndCheckpointedPassesToo(bool reverse, int detachEvery, int checkpointEvery)
    {
        long before = WorkerTeam.SideJobsPosted;
        var one = Run("lstm", threads: 1, reverse, detachEvery, checkpointEvery);
        var two = Run("lstm", threads: 2, reverse, detachEvery, checkpointEvery);
        for (int k = 0; k < one.Length; k++) Assert.Equal(one[k], two[k]);
        Assert.True(WorkerTeam.SideJobsPosted > before);
    }

    [Fact]
    public void AWeightThatAGroupAlsoReadsKeepsItsGradientOnTheCallingThread()
    {
        // h' = tanh(W_ih x + U h + h * U) with B = H: U is a product's weight and a fused group's operand, so the group's
        // backward adds into dL/dU at every step, on the calling thread; U's batches must not be added on the side lane
        // at the same time. (H = B = 128: U's weight-gradient product, 128 x 128 x 256, would otherwise be a side job.)
        RecurrentCell<double> Cell() => new CustomCell<double>("shared", 16, 128, stateNames: ["h"],
            parameters: new Dictionary<string, int[]> { ["weight_ih"] = [128, 16], ["weight_hh"] = [128, 128] },
            projectInput: (x, p) => x.Linear(p["weight_ih"]),
            step: (x, s, p) => [(x + s["h"].Linear(p["weight_hh"]) + s["h"] * p["weight_hh"]).Tanh()],
            rng: new Rng(1));
        Assert.Contains("the whole sequence as one tape entry", Cell().ExplainCompiledStep(128));
        double[][] Run(int threads)
        {
            int saved = Parallelism.MaxThreads;
            try
            {
                Parallelism.MaxThreads = threads;
                Tape.Current.Reset();
                var cell = Cell();
                var x = Tensor.RandomNormal<double>(new Rng(2), [6, 128, 16]);
                var h0 = Tensor.RandomNormal<double>(new Rng(3), [128, 128], std: 0.5).RequireGrad();
                var result = Unroll.Run(cell, x, new UnrollOptions<double> { InitialState = new RecurrentState<double>(cell.StateNames, [h0]) });
                result.Output.Square().Sum().Backward();
                return [result.Output.ToArray(), h0.Grad!.ToArray(), .. cell.NamedParameters().Select(p => p.Value.Grad!.ToArray())];
            }
            finally { Parallelism.MaxThreads = saved; }
        }
        var one = Run(1);
        long before = WorkerTeam.SideJobsPosted;
        var two = Run(2);
        Assert.Equal(before, WorkerTeam.SideJobsPosted);
        for (int k = 0; k < one.Length; k++) Assert.Equal(one[k], two[k]);
    }
}
