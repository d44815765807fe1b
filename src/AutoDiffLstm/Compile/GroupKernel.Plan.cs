using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

internal sealed partial class GroupKernel<T>
{
    /// <summary>
    /// Builds a kernel in two parts: the plan (this file: which instructions share a loop, where each value and
    /// gradient lives, what is stored, cleared or computed in place) and the code (GroupKernel.Emit.cs).
    /// </summary>
    private sealed partial class Builder(FusedGroup<T> group)
    {
        // The vectors of this kernel (VectorBits when it is built) and the methods that load, store and add them, looked
        // up once per kernel (the code calls them for every access).
        private readonly int bits = VectorBits;
        private int Lanes => bits / 8 / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        private Type VectorType => bits == 512 ? typeof(Vector512<T>) : typeof(Vector256<T>);
        private MethodInfo LoadMethod => loadMethod ??= Method("Load");
        private MethodInfo BroadcastMethod => broadcastMethod ??= Method("LoadBroadcast");
        private MethodInfo StoreMethod => storeMethod ??= Method("Store");
        private MethodInfo SumMethod => sumMethod ??= Method("Sum");
        private MethodInfo? loadMethod, broadcastMethod, storeMethod, sumMethod;

        private MethodInfo Method(string name) => (bits == 512 ? typeof(Wide) : typeof(Narrow)).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;

        private readonly FusedInstruction<T>[] program = group.Program;
        private readonly List<(int First, int Count)> runs = [];   // maximal consecutive elementwise instructions of one width
        private int[] runOfInstruction = [], runOfSlot = [];
        private bool[] stored = [], gradientInMemory = [], writtenOnce = [];

        /// <summary>The inner slots whose gradients the kernel adds to in memory, which must start at zero.</summary>
        public int[] ClearedSlots { get; private set; } = [];
        private Place?[] valuePlace = [];
        private Place?[] viewOf = [];   // per slice or broadcast slot: where its elements are in its source
        private int[] forwardExtent = [], backwardExtent = [];

        private int Slots => group.SlotOffsets.Length;

        private bool IsComputed(int instruction) => computed[program[instruction].Destination];

        private bool Kept(int slot) => group.SlotOffsets[slot] < group.SavedSize;

        private Place OwnPlace(int slot) => Kept(slot)
            ? new(GroupKernel<T>.Kept, group.SlotOffsets[slot], group.SlotCols[slot])
            : new(GroupKernel<T>.Scratch, group.SlotOffsets[slot] - group.SavedSize, group.SlotCols[slot]);

        private Place ValuePlace(int operand) => operand >= 0 ? valuePlace[operand]!.Value : new(ExternalValues(~operand), 0, group.ExternalCols[~operand]);

        private Place GradientPlace(int operand) => operand >= 0
            ? new(Gradients, group.SlotOffsets[operand], group.SlotCols[operand])
            : new(ExternalGradients(~operand), 0, group.ExternalCols[~operand]);

        /// <summary>
        /// An elementwise value read only through slices that tile it, each read once, is computed where its slices are
        /// read, from its operands' columns, and never stored (an LSTM's pre-activations P_t + W h + b); backward pushes
        /// each slice's gradient through it into its operands' columns there. Only when the value is alone in its run,
        /// not kept or returned, its derivative does not read it, and its operands have no other reader (so their
        /// gradients get the same single contribution, only at another point of the walk).
        /// </summary>
        private void PlanComputedSlices(int[] whole, List<(int Start, int Width)>[] ranges, int[] readers, int[] externalWhole, List<(int Start, int Width)>[] externalRanges)
        {
            computedFrom = new (ElementwiseInstruction<T>, int)?[Slots];
            foreach (var (first, count) in runs)
            {
                if (count != 1 || program[first] is not ElementwiseInstruction<T> e) continue;
                int s = e.Destination;
                if (Kept(s) || group.OutputIndexOfSlot[s] >= 0 || e.Kernel.BackwardReadsOutput || whole[s] != 0 || !writtenOnce[s]) continue;
                var slices = program.OfType<NarrowInstruction<T>>().Where(n => n.Source == s).ToArray();
                if (slices.Any(n => Kept(n.Destination) || group.OutputIndexOfSlot[n.Destination] >= 0 || whole[n.Destination] != 1 || ranges[n.Destination].Count > 0))
                    continue;
                var operands = e.Operands;
                bool alone(int o) => o >= 0 ? readers[o] == 1 && ranges[o].Count == 0 : externalWhole[~o] == 1 && externalRanges[~o].Count == 0;
                if (operands.Distinct().Count() != operands.Count || !operands.All(alone)) continue;
                foreach (var n in slices) computedFrom[n.Destination] = (e, n.Start);
                computed[s] = true;
                stored[s] = false;
            }
        }

        private (ElementwiseInstruction<T> Producer, int Start)?[] computedFrom = [];   // per slice slot: the value it is computed from, and where
        private bool[] computed = [];                                                   // per slot: computed where its slices are read

        /// <summary>Whether readers adding to all of a gradient (<paramref name="whole"/>) and slices of it give each element exactly one contribution.</summary>
        private static bool OnePerElement(int whole, List<(int Start, int Width)> slices, int cols)
        {
            if (whole > 0) return whole == 1 && slices.Count == 0;
            var sorted = slices.OrderBy(r => r.Start).ToList();
            return sorted.Count > 0 && sorted[0].Start == 0 && sorted[^1].Start + sorted[^1].Width == cols
                && sorted.Zip(sorted.Skip(1)).All(p => p.First.Start + p.First.Width == p.Second.Start);
        }

        /// <summary>Per external, whether the kernel adds exactly one contribution to each element of its gradient.</summary>
        public bool[] WritesGradientOnce { get; private set; } = [];

        /// <summary>Runs, places and what is stored; an empty string, or why the group cannot be generated.</summary>
        public string Plan()
        {
            if (bits == 0) return "no hardware 256- or 512-bit vectors here";
            // Under NativeAOT (or a file-based app's defaults) expression trees are interpreted, far slower than the interpreter here.
            if (!RuntimeFeature.IsDynamicCodeCompiled) return "code generated at run time is not compiled in this process";
            runOfInstruction = new int[program.Length];
            runOfSlot = Enumerable.Repeat(-1, Slots).ToArray();
            valuePlace = new Place?[Slots];
            viewOf = new Place?[Slots];
            for (int i = 0; i < program.Length; i++)
            {
                runOfInstruction[i] = -1;
                int d = program[i].Destination, width = group.SlotCols[d];
                if (width % Lanes != 0) return $"its rows of {width} values are not whole {Lanes}-lane vectors";
                switch (program[i])
                {
                    case ElementwiseInstruction<T> e:
                        if (e.Kernel.VectorForm is null) return $"{e.Name} has no vector form for {typeof(T).Name} here";
                        if (runs.Count > 0 && runs[^1].First + runs[^1].Count == i && group.SlotCols[program[i - 1].Destination] == width
                            && runs[^1].Count < MaxRunPrimitives)
                            runs[^1] = (runs[^1].First, runs[^1].Count + 1);
                        else runs.Add((i, 1));
                        runOfInstruction[i] = runOfSlot[d] = runs.Count - 1;
                        valuePlace[d] = OwnPlace(d);
                        break;
                    case NarrowInstruction<T> n:
                        viewOf[d] = ValuePlace(n.Source).Shifted(n.Start);
                        break;
                    case ExpandInstruction<T> x:
                        if (x.Kind == Broadcast.Column) return "it broadcasts a column over rows";
                        if (x.Source >= 0) return "it broadcasts one of its own values";
                        viewOf[d] = new(ExternalValues(~x.Source), 0, 0, x.Kind == Broadcast.Scalar);
                        break;
                    default:
                        return $"it has a {program[i].GetType().Name.Split('`')[0].Replace("Instruction", "").ToLowerInvariant()}";
                }
                // A slice or broadcast is read in place, unless kept (backward or the step reads it): then copied out once.
                if (viewOf[d] is { } view) valuePlace[d] = Kept(d) ? OwnPlace(d) : view;
            }
            // A value another run or a slice reads, or that is kept, goes to memory; the rest of a run stays in registers.
            // Likewise a gradient: in memory when readers outside the run add to it (or outside the group: an output).
            stored = new bool[Slots];
            gradientInMemory = new bool[Slots];
            var whole = new int[Slots];                          // readers adding to every element of a slot's gradient in memory
            var ranges = new List<(int Start, int Width)>[Slots];  // slices adding to some of its columns
            for (int s = 0; s < Slots; s++)
            {
                bool output = group.OutputIndexOfSlot[s] >= 0;
                stored[s] = Kept(s) || output || runOfSlot[s] < 0;
                gradientInMemory[s] = output || runOfSlot[s] < 0;
                ranges[s] = [];
            }
            var readers = new int[Slots];                        // every operand occurrence, in the run or not
            var externalWhole = new int[group.Externals.Length];
            var externalRanges = group.Externals.Select(_ => new List<(int Start, int Width)>()).ToArray();
            for (int i = 0; i < program.Length; i++)
                foreach (int o in program[i].Operands)
                {
                    if (o < 0)
                    {
                        // A broadcast's sum over rows adds many values into one: never written once.
                        if (program[i] is NarrowInstruction<T> slice) externalRanges[~o].Add((slice.Start, slice.Width));
                        else externalWhole[~o] += program[i] is ExpandInstruction<T> ? 2 : 1;
                        continue;
                    }
                    readers[o]++;
                    if (runOfInstruction[i] >= 0 && runOfInstruction[i] == runOfSlot[o]) continue;
                    stored[o] = gradientInMemory[o] = true;
                    if (program[i] is NarrowInstruction<T> n) ranges[o].Add((n.Start, n.Width));
                    else whole[o]++;
                }
            WritesGradientOnce = [.. Enumerable.Range(0, group.Externals.Length).Select(k =>
                group.ExternalCols[k] > 0 && OnePerElement(externalWhole[k], externalRanges[k], group.ExternalCols[k]))];
            // An inner gradient that gets exactly one contribution per element is written (0 + c, the interpreter's bits)
            // rather than added to a cleared buffer: an LSTM's pre-activations and their slices then need no clearing.
            writtenOnce = new bool[Slots];
            computed = new bool[Slots];
            for (int s = 0; s < Slots; s++)
                writtenOnce[s] = gradientInMemory[s] && group.OutputIndexOfSlot[s] < 0 && OnePerElement(whole[s], ranges[s], group.SlotCols[s]);
            ClearedSlots = [.. Enumerable.Range(0, Slots).Where(s => gradientInMemory[s] && group.OutputIndexOfSlot[s] < 0 && !writtenOnce[s])];
            PlanComputedSlices(whole, ranges, readers, externalWhole, externalRanges);
            // Only memory survives from forward to backward: what backward reads must be kept (the planner keeps it).
            if (program.Any(i => i.ReadInBackward.Any(o => ValuePlace(o).Stream == GroupKernel<T>.Scratch))) return "its backward reads a value it does not keep";
            return "";
        }

        public GroupKernel<T> Build()
        {
            int streams = OutputCopy(group.OutputMembers.Length, group.Externals.Length);
            forwardExtent = new int[streams];
            backwardExtent = new int[streams];
            var forward = Lambda(backwardPass: false, forwardExtent);
            var backward = Lambda(backwardPass: true, backwardExtent);
            var cleared = Ranges.Merged(ClearedSlots.Select(s => (group.SlotOffsets[s], group.SlotLengths[s])));
            var widths = runs.Select(r => $"{r.Count} at {group.SlotCols[program[r.First].Destination]}");
            return new GroupKernel<T>(forward, backward, forwardExtent, backwardExtent, ClearedSlots, cleared, WritesGradientOnce, group.Rows, group.Externals.Length,
                $"generated kernel: per row, {runs.Count} loop{(runs.Count == 1 ? "" : "s")} of {Lanes}-lane vectors (primitives at width: {string.Join(", ", widths)})"
                + (computed.Any(c => c) ? $"; {string.Join(", ", Enumerable.Range(0, Slots).Where(s => computed[s]).Select(s => $"s{s}"))} computed where its slices are read, never stored" : "")
                + (Methods > 2 ? $", split into {Methods} methods to stay within the JIT's inlining budget" : ""));
        }
    }
}
