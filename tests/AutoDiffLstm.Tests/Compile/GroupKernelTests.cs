using System.Runtime.Intrinsics;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Tests.Kernels;

namespace AutoDiffLstm.Tests.Compile;

/// <summary>
/// A fused group's generated kernel (one loop over rows, values in registers) against the same program run instruction
/// by instruction: every element sees the same operations in the same order, so outputs, final states and every
/// gradient must be the same bits, for every registered cell, in one block and in blocks of rows on two threads, at every
/// vector width the machine runs (512 and 256 bits on AVX-512 hardware, 256 on AVX2). Float at H = 32 (whole 16-lane
/// vectors), where Sigmoid and Tanh have vector forms. Alone in the MaxThreads collection: it changes process-wide
/// settings.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class GroupKernelTests
{
    public static TheoryData<string> Cells() => [.. CellRegistry.Names];

    /// <summary>The vector widths generated kernels can use on this machine (none without AVX2).</summary>
    public static readonly int[] WidthsHere = [.. new[] { 512, 256 }.Where(b => b == 512 ? Vector512.IsHardwareAccelerated : Vector256.IsHardwareAccelerated)];

    private static float[][] Run(string name, bool generated, int threads = 1, int minParallelValues = int.MaxValue, bool reverse = false, int bits = -1,
        bool background = false, Action<RecurrentCell<float>>? beforeBackward = null) =>
        Run(() => CellRegistry.Create<float>(name, 16, 32, new Rng(1)), generated, threads, minParallelValues, reverse, bits, background, beforeBackward);

    private static float[][] Run(Func<RecurrentCell<float>> create, bool generated, int threads = 1, int minParallelValues = int.MaxValue, bool reverse = false, int bits = -1,
        bool background = false, Action<RecurrentCell<float>>? beforeBackward = null)
    {
        const int input = 16;
        var (savedEnabled, savedThreads, savedMin, savedBits) = (GroupKernel<float>.Enabled, Parallelism.MaxThreads, GroupBlocks<float>.MinParallelValues, GroupKernel<float>.VectorBits);
        try
        {
            (GroupKernel<float>.Enabled, Parallelism.MaxThreads, GroupBlocks<float>.MinParallelValues) = (generated, threads, minParallelValues);
            GroupKernel<float>.GenerateInBackground = background;
            if (bits >= 0) GroupKernel<float>.VectorBits = bits;
            Tape.Current.Reset();
            var cell = create();
            foreach (var (_, parameter) in cell.NamedParameters()) parameter.ZeroGrad();   // a cell that ran a pass before holds its gradients
            var x = Tensor.RandomNormal<float>(new Rng(2), [5, 7, input]).RequireGrad();
            var rng = new Rng(3);
            var initial = cell.InitialState(7).Tensors.Select(t => Tensor.RandomNormal<float>(rng, [.. t.Shape], std: 0.5).RequireGrad()).ToArray();
            var leaves = cell.NamedParameters().Select(p => p.Value).Append(x).Concat(initial).ToArray();
            var result = Unroll.Run(cell, x, new UnrollOptions<float> { ParallelForm = false, Reverse = reverse, InitialState = new RecurrentState<float>(cell.StateNames, initial) });
            var weights = Tensor.RandomNormal<float>(new Rng(9), [.. result.Output.Shape]);
            var loss = (result.Output * weights).Sum() + result.FinalState.Tensors.Select(s => s.Square().Sum()).Aggregate((a, b) => a + b);
            beforeBackward?.Invoke(cell);
            loss.Backward();
            return [result.Output.ToArray(), .. result.FinalState.Tensors.Select(s => s.ToArray()), .. leaves.Select(l => l.Grad?.ToArray() ?? [])];
        }
        finally
        {
            (GroupKernel<float>.Enabled, Parallelism.MaxThreads, GroupBlocks<float>.MinParallelValues, GroupKernel<float>.VectorBits) = (savedEnabled, savedThreads, savedMin, savedBits);
            Compiler.GenerateKernelsInBackground = false;   // the test assembly's setting (TestSettings)
        }
    }

    private static IEnumerable<FusedGroup<float>> Groups(RecurrentCell<float> cell) =>
        cell.CompiledStep.Traced.Select(t => t.Program).OfType<CompiledProgram<float>>().SelectMany(p => p.Groups);

    [Theory]
    [MemberData(nameof(Cells))]
    public void AKernelGeneratedInTheBackgroundTakesOverFromTheInterpreterWithTheSameBits(string name)
    {
        // By default a pass does not wait for a group's kernel: it finds the kernel not generated yet, starts its
        // generation and runs instruction by instruction. The test holds the generation work to choose when it runs:
        // never during a pass (both directions interpreted), or between forward and backward (backward's pass takes the
        // kernel up and reads the values the interpreter kept). Every case must give the interpreter's bits.
        var interpreted = Run(name, generated: false);
        var held = new List<Action>();
        var saved = GroupKernel<float>.StartInBackground;
        GroupKernel<float>.StartInBackground = held.Add;
        try
        {
            var kernelsLater = Run(name, generated: true, background: true);
            AssertSameBits(interpreted, kernelsLater);
            int started = held.Count;
            held.ForEach(work => work());
            held.Clear();
            var mixed = Run(name, generated: true, background: true, beforeBackward: _ => held.ForEach(work => work()));
            AssertSameBits(interpreted, mixed);
            Assert.Equal(started, held.Count);   // one generation per group, started by the forward pass
            if (WidthsHere.Length > 0 && name is "lstm" or "gru") Assert.True(started > 0, "the forward pass should have started generating its group's kernel");
        }
        finally
        {
            (GroupKernel<float>.StartInBackground, GroupKernel<float>.GenerateInBackground) = (saved, false);
        }
    }

    [Fact]
    public void ThePublicSwitchSetsBothElementTypes()
    {
        try
        {
            Compiler.GenerateKernelsInBackground = true;
            Assert.True(GroupKernel<float>.GenerateInBackground && GroupKernel<double>.GenerateInBackground && Compiler.GenerateKernelsInBackground);
            Compiler.GenerateKernelsInBackground = false;
            Assert.False(GroupKernel<float>.GenerateInBackground || GroupKernel<double>.GenerateInBackground || Compiler.GenerateKernelsInBackground);
        }
        finally
        {
            Compiler.GenerateKernelsInBackground = false;   // the test assembly's setting (TestSettings)
        }
    }

    [Fact]
    public void ACellsPassesUseItsKernelOnceGeneratedInTheBackground()
    {
        var held = new List<Action>();
        var saved = GroupKernel<float>.StartInBackground;
        GroupKernel<float>.StartInBackground = held.Add;
        try
        {
            var cell = CellRegistry.Create<float>("lstm", 16, 32, new Rng(1));
            var first = Run(() => cell, generated: true, background: true);
            var group = Groups(cell).Single();
            if (WidthsHere.Length == 0)
            {
                Assert.Empty(held);   // no kernel can be made here: nothing is started, and the group says why
                Assert.Null(group.Kernel);
                return;
            }
            Assert.Single(held);
            GroupKernel<float>.GenerateInBackground = true;
            Assert.Null(group.KernelIfReady);   // not generated until the work runs, and not started twice
            Assert.Single(held);
            held[0]();
            Assert.NotNull(group.KernelIfReady);
            Assert.True(new GroupBlocks<float>(group).Direct, "blocks made now run the kernel");
            AssertSameBits(first, Run(() => cell, generated: true, background: true));   // the next pass, with the kernel
        }
        finally
        {
            (GroupKernel<float>.StartInBackground, GroupKernel<float>.GenerateInBackground) = (saved, false);
        }
    }

    private static void AssertSameBits(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k].Select(BitConverter.SingleToInt32Bits), actual[k].Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void GeneratedKernelsGiveTheInterpretersBits(string name)
    {
        var (interpreted, reversed) = (Run(name, generated: false), Run(name, generated: false, reverse: true));
        foreach (int bits in WidthsHere)
        {
            AssertSameBits(interpreted, Run(name, generated: true, bits: bits));
            AssertSameBits(interpreted, Run(name, generated: true, threads: 2, minParallelValues: 0, bits: bits));   // 7 rows in two blocks
            AssertSameBits(reversed, Run(name, generated: true, reverse: true, bits: bits));
        }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn")]
    public void TheCommonCellsRunGeneratedKernelsOnAvx2AndAvx512(string name)
    {
        var explained = CellRegistry.Create<float>(name, 16, 32, new Rng(1)).ExplainCompiledStep(8);
        if (GroupKernel<float>.VectorBits == 0) Assert.Contains("instruction by instruction (no hardware 256- or 512-bit vectors here)", explained);
        else
        {
            Assert.Contains("in a whole sequence: generated kernel: per row, ", explained);
            Assert.Contains($" of {GroupKernel<float>.VectorBits / 32}-lane vectors", explained);
        }
    }

    /// <summary>A step of 150 elementwise primitives in one group: more calls than the JIT inlines into one method.</summary>
    private static CustomCell<float> LongChain() => new("long", 16, hiddenSize: 32, stateNames: ["h"],
        parameters: new Dictionary<string, int[]> { ["weight_ih"] = [32, 16], ["weight_hh"] = [32, 32] },
        projectInput: (x, p) => x.Linear(p["weight_ih"]),
        step: (x, s, p) =>
        {
            var h = s["h"];
            var z = x + h.Linear(p["weight_hh"]);
            for (int i = 0; i < 30; i++) z = (z * h).Tanh() + z.Sigmoid() * x;
            return [z];
        }, rng: new Rng(1));

    [Fact]
    public void ALongStepIsSplitIntoSeveralMethodsWithTheSameBits()
    {
        var explained = LongChain().ExplainCompiledStep(7);
        if (GroupKernel<float>.VectorBits == 0)
        {
            Assert.Contains("instruction by instruction (no hardware 256- or 512-bit vectors here)", explained);
            return;
        }
        Assert.Contains("split into", explained);
        var interpreted = Run(LongChain, generated: false);
        foreach (int bits in WidthsHere) AssertSameBits(interpreted, Run(LongChain, generated: true, bits: bits));
    }

    [Fact]
    public void ARowThatIsNotWholeVectorsRunsInstructionByInstructionAndSaysSo()
    {
        var explained = CellRegistry.Create<float>("lstm", 16, 20, new Rng(1)).ExplainCompiledStep(8);
        Assert.Contains("instruction by instruction (", explained);
        Assert.DoesNotContain("generated kernel", explained);
    }

    [Fact]
    public void DoubleSigmoidHasNoVectorFormSoAnLstmInDoubleIsInterpreted()
    {
        // Double Sigmoid is TensorPrimitives' kernel, which cannot be called one vector at a time with the same bits.
        var explained = CellRegistry.Create<double>("lstm", 16, 32, new Rng(1)).ExplainCompiledStep(8);
        Assert.Contains("Sigmoid has no vector form for Double", explained);
    }

    // An LSTM step's one fused group at B = 4 and its kernel; null where this machine has no 256- or 512-bit vectors (and says so).
    private static (FusedGroup<float> Group, GroupKernel<float> Kernel)? LstmGroup()
    {
        var cell = CellRegistry.Create<float>("lstm", 16, 32, new Rng(1));
        cell.ExplainCompiledStep(4);
        var group = cell.CompiledStep.Traced.Select(t => t.Program).OfType<CompiledProgram<float>>().Single().Groups.Single();
        if (group.Kernel is { } kernel) return (group, kernel);
        Assert.Equal("no hardware 256- or 512-bit vectors here", group.KernelReason);
        return null;
    }

    [Fact]
    public void AKernelRefusesBuffersShorterThanItsGroupAndRowsOutsideIt()
    {
        if (LstmGroup() is not var (group, kernel)) return;
        var arrays = new float[kernel.Streams][];
        var offsets = new int[kernel.Streams];
        for (int k = 0; k < arrays.Length; k++) arrays[k] = new float[group.ArenaSize];
        arrays[GroupKernel<float>.Kept] = new float[group.SavedSize - 1];
        var error = Assert.Throws<InvalidOperationException>(() => kernel.Forward(arrays, offsets, 0, group.Rows));
        Assert.Contains("GroupKernel forward: stream 0 needs", error.Message);
        arrays[GroupKernel<float>.Kept] = new float[group.ArenaSize];
        var rows = Assert.Throws<ArgumentOutOfRangeException>(() => kernel.Backward(arrays, offsets, null, 1, group.Rows));
        Assert.Contains($"GroupKernel backward: rows [1, {group.Rows + 1}) of a group of {group.Rows}", rows.Message);
    }

    [Fact]
    public void ForwardStoresEachOutputWhereTheCallerGivesACopyToo()
    {
        if (LstmGroup() is not var (group, kernel)) return;
        int externals = group.Externals.Length;
        float[][] Streams()
        {
            var rng = new Rng(5);
            var arrays = new float[kernel.Streams][];
            arrays[GroupKernel<float>.Kept] = new float[group.SavedSize];
            arrays[GroupKernel<float>.Scratch] = new float[group.ArenaSize];
            for (int k = 0; k < externals; k++) arrays[GroupKernel<float>.ExternalValues(k)] = Tensor.RandomNormal<float>(rng, [group.Rows * group.ExternalCols[k]]).ToArray();
            return arrays;
        }
        var offsets = new int[kernel.Streams];
        var alone = Streams();
        kernel.Forward(alone, offsets, 0, group.Rows);
        var withCopies = Streams();
        int outputs = group.OutputMembers.Length;
        for (int j = 0; j < outputs; j++)
        {
            int slot = group.SlotOfMember[group.OutputMembers[j]];
            withCopies[GroupKernel<float>.OutputCopy(j, externals)] = Enumerable.Repeat(float.NaN, 3 + group.SlotLengths[slot]).ToArray();
            offsets[GroupKernel<float>.OutputCopy(j, externals)] = 3;
        }
        kernel.Forward(withCopies, offsets, 0, group.Rows);
        Assert.Equal(alone[GroupKernel<float>.Kept], withCopies[GroupKernel<float>.Kept]);
        for (int j = 0; j < outputs; j++)
        {
            int slot = group.SlotOfMember[group.OutputMembers[j]];
            var copy = withCopies[GroupKernel<float>.OutputCopy(j, externals)];
            Assert.All(copy[..3], v => Assert.True(float.IsNaN(v)));
            Assert.Equal(alone[GroupKernel<float>.Kept].AsSpan(group.SlotOffsets[slot], group.SlotLengths[slot]).ToArray(), copy[3..]);
        }
        // A copy shorter than the output is refused before anything runs.
        withCopies[GroupKernel<float>.OutputCopy(0, externals)] = new float[4];
        var error = Assert.Throws<InvalidOperationException>(() => kernel.Forward(withCopies, offsets, 0, group.Rows));
        Assert.Contains($"stream {GroupKernel<float>.OutputCopy(0, externals)} needs", error.Message);
    }
}
