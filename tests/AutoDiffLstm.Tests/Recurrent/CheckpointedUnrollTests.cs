using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// Gradient checkpointing of the unroll (SequenceOptions.CheckpointEvery) changes the memory schedule, not the numbers:
/// outputs, final states and gradients are the same bits as without it, for every kind of cell and every segment
/// length, with masks, both directions, stacking and truncation. The one documented exception: a hoisted input
/// projection is hoisted per segment, so weight_ih and bias_ih sum their rows in another order (equal to rounding).
/// </summary>
public class CheckpointedUnrollTests
{
    private static readonly HashSet<string> ProjectionOnly = ["weight_ih_l0", "bias_ih_l0", "weight_ih_l0_reverse", "bias_ih_l0_reverse",
        "weight_ih_l1", "bias_ih_l1", "weight_ih_l1_reverse", "bias_ih_l1_reverse"];

    public static TheoryData<string, int> CellsAndSegments()
    {
        // T = 10: k = 1 (every step), 3 and 4 (do not divide T), 5, 10 (= T: one segment), 25 (> T), SqrtSteps (4).
        var data = new TheoryData<string, int>();
        foreach (var cell in new[] { "rnn_tanh", "lstm", "gru", "mgu" })
            foreach (var k in new[] { 1, 3, 4, 5, 10, 25, GradientCheckpoint.SqrtSteps })
                data.Add(cell, k);
        return data;
    }

    private static (RecurrentLayer<double> Layer, Tensor<double> X, IReadOnlyList<RecurrentState<double>> Initial) Stack(string kindName, bool bidirectional = true)
    {
        var kind = CellZoo.Get(kindName);
        var layer = new RecurrentLayer<double>((i, r) => kind.Make(i, 3, r), 2, new Rng(11), numLayers: 2, bidirectional: bidirectional, residual: true);
        var x = Tensor.RandomNormal<double>(new Rng(12), [10, 3, 2]);
        var rng = new Rng(13);
        var initial = layer.InitialStates(3).Select(s => s.Map(t => Tensor.RandomNormal<double>(rng, [.. t.Shape], std: 0.5))).ToArray();
        return (layer, x, initial);
    }

    [Theory]
    [MemberData(nameof(CellsAndSegments))]
    public void PerStepProjectionGivesBitIdenticalGradients(string kindName, int every)
    {
        var (layer, x, initial) = Stack(kindName);
        var options = new SequenceOptions<double> { InitialStates = initial, Lengths = [10, 7, 1], HoistInputProjection = false };
        var reference = CheckpointRuns.Run(layer, x, options);
        var checkpointed = CheckpointRuns.Run(layer, x, options with { CheckpointEvery = every });
        CheckpointRuns.AssertSame(reference, checkpointed);
    }

    [Theory]
    [MemberData(nameof(CellsAndSegments))]
    public void HoistedProjectionDiffersOnlyInTheProjectionWeightsAndOnlyByRounding(string kindName, int every)
    {
        var (layer, x, initial) = Stack(kindName);
        var options = new SequenceOptions<double> { InitialStates = initial, Lengths = [10, 7, 1] };
        var reference = CheckpointRuns.Run(layer, x, options);
        var checkpointed = CheckpointRuns.Run(layer, x, options with { CheckpointEvery = every });
        CheckpointRuns.AssertSame(reference, checkpointed, ProjectionOnly, relativeTolerance: 1e-14);
    }

    [Theory]
    [InlineData("lstm", 4, 3)]
    [InlineData("gru", 3, 3)]
    [InlineData("mgu", 5, 2)]
    public void TruncationInsideAndAcrossSegmentsIsUnchanged(string kindName, int every, int detachEvery)
    {
        var (layer, x, initial) = Stack(kindName);
        var options = new SequenceOptions<double> { InitialStates = initial, DetachEvery = detachEvery, HoistInputProjection = false };
        CheckpointRuns.AssertSame(CheckpointRuns.Run(layer, x, options), CheckpointRuns.Run(layer, x, options with { CheckpointEvery = every }));
    }

    [Theory]
    [InlineData("lstm_cifg")]
    [InlineData("lstm_nfg")]
    [InlineData("irnn")]
    public void AMaskWithHolesAndOtherCellsAreUnchanged(string kindName)
    {
        var (layer, x, initial) = Stack(kindName);
        var mask = Tensor.FromArray(Enumerable.Range(0, 30).Select(i => i % 7 == 3 || i % 5 == 1 ? 0.0 : 1.0).ToArray(), 10, 3);
        var options = new SequenceOptions<double> { InitialStates = initial, Mask = mask, HoistInputProjection = false };
        CheckpointRuns.AssertSame(CheckpointRuns.Run(layer, x, options), CheckpointRuns.Run(layer, x, options with { CheckpointEvery = 3 }));
    }

    [Fact]
    public void TheTapeKeepsOnlySegmentsOutputsAndWhatFollowsThem()
    {
        var (layer, x, _) = Stack("lstm");
        Tape.Current.Reset();
        layer.Forward(x.Clone().RequireGrad(), new SequenceOptions<double> { CheckpointEvery = 4 });
        var counts = Tape.Current.OperationNames().GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        Tape.Current.Reset();
        // 2 layers x 2 directions x ceil(10 / 4) segments; per segment (one compiled sequence) its stacked outputs and the
        // leaving h and c.
        Assert.Equal(2 * 2 * 3, counts["Checkpoint"]);
        Assert.Equal(2 * 2 * 3 * 3, counts["CheckpointOutput"]);
        // Joining the segments and the bidirectional concat (both Concat), the residual Add: no step operation at all.
        Assert.Equal(["Add", "Checkpoint", "CheckpointOutput", "Concat"], counts.Keys.Order());
    }

    [Fact]
    public void CheckpointedLayerPassesAGradientCheck()
    {
        var (layer, x, initial) = Stack("lstm");
        var report = RecurrentGradCheck.Check(layer, x, new SequenceOptions<double> { InitialStates = initial, Lengths = [10, 6, 2], CheckpointEvery = 3 });
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void RetainingStateGradientsIsRejectedWithCheckpointing()
    {
        var (layer, x, _) = Stack("gru");
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(x, new SequenceOptions<double> { CheckpointEvery = 3, RetainStateGradients = true }));
        Assert.Contains("RetainStateGradients", e.Message);
        Assert.Contains("CheckpointEvery", e.Message);
    }

    [Fact]
    public void NegativeSegmentLengthsOtherThanSqrtStepsAreRejected()
    {
        var (layer, x, _) = Stack("gru");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(x, new SequenceOptions<double> { CheckpointEvery = -2 }));
        Assert.Contains("CheckpointEvery", e.Message);
        Assert.Contains("-2", e.Message);
    }

    [Fact]
    public void PerStepStatesAreNotKeptAndSaySo()
    {
        var (layer, x, _) = Stack("lstm", bidirectional: false);
        Tape.Current.Reset();
        var result = layer.Forward(x.Clone().RequireGrad(), new SequenceOptions<double> { CheckpointEvery = 3 });
        Tape.Current.Reset();
        Assert.Equal(10, result.Steps(0).Count);
        var e = Assert.Throws<InvalidOperationException>(() => result.Steps(1)[4]);
        Assert.Contains("not kept", e.Message);
        Assert.Contains("CheckpointEvery", e.Message);
        Assert.Throws<InvalidOperationException>(() => result.Steps(0).ToList());
    }

    [Fact]
    public void UnderNoGradTheOrdinaryPassRunsAndKeepsItsStates()
    {
        var (layer, x, _) = Stack("lstm", bidirectional: false);
        using var _ = Autograd.NoGrad();
        var plain = layer.Forward(x);
        var checkpointed = layer.Forward(x, new SequenceOptions<double> { CheckpointEvery = 3 });
        Assert.Equal(plain.Output.ToArray(), checkpointed.Output.ToArray());
        Assert.Equal(plain.Steps(1)[4]["c"].ToArray(), checkpointed.Steps(1)[4]["c"].ToArray());
    }

    [Fact]
    public void GateListenersSeeEveryStepOnceDespiteTheRecomputation()
    {
        // A custom cell that reports its gate: the recomputation in backward must not report the steps a second time.
        var cell = new CustomCell<double>("reporting", 2, 3, ["h"],
            new Dictionary<string, int[]> { ["weight_ih"] = [3, 2], ["weight_hh"] = [3, 3] },
            (x, s, p) =>
            {
                var gate = (x.Linear(p["weight_ih"]) + s["h"].Linear(p["weight_hh"])).Sigmoid();
                GateMonitor.Observe("update", gate);
                return [gate * s["h"] + (1 - gate) * x.Linear(p["weight_ih"]).Tanh()];
            }, new Rng(5));
        var x = Tensor.RandomNormal<double>(new Rng(6), [10, 2, 2]);
        int Observed(int every)
        {
            Tape.Current.Reset();
            int seen = 0;
            using (GateMonitor.Listen((_, _, _) => seen++))
                Unroll.Run(cell, x, new UnrollOptions<double> { CheckpointEvery = every }).Output.Sum().Backward();
            return seen;
        }
        Assert.Equal(10, Observed(0));
        Assert.Equal(10, Observed(3));
    }
}
