using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.Intrinsics;
using static System.Linq.Expressions.Expression;

namespace AutoDiffLstm;

internal sealed partial class GroupKernel<T>
{
    /// <summary>The code of a planned kernel: expression trees per row, compiled to one or more methods per pass.</summary>
    private sealed partial class Builder
    {
        // The parameters and per-stream locals of the lambda being built.
        private ParameterExpression[] arrays = [], offsets = [], fresh = [];
        private ParameterExpression row = null!, column = null!;
        private int[] extent = [];

        private Body Lambda(bool backwardPass, int[] extentOfPass)
        {
            extent = extentOfPass;
            int streams = extent.Length;
            arrays = [.. Enumerable.Range(0, streams).Select(k => Variable(typeof(T[]), $"a{k}"))];
            offsets = [.. Enumerable.Range(0, streams).Select(k => Variable(typeof(int), $"o{k}"))];
            fresh = [.. Enumerable.Range(0, group.Externals.Length).Select(k => Variable(typeof(bool), $"fresh{k}"))];
            row = Variable(typeof(int), "r");
            column = Variable(typeof(int), "c");
            var segments = backwardPass ? BackwardRow() : ForwardRow();
            // The JIT inlines a few hundred calls into one method and then stops: a long program becomes several methods,
            // each over all the rows (the values between them are in memory already, so the bits are the same).
            var parts = new List<List<Expression>>();
            int used = 0;
            foreach (var (code, calls) in segments)
            {
                if (parts.Count == 0 || used + calls > CallsPerMethod && parts[^1].Count > 0)
                {
                    parts.Add([]);
                    used = 0;
                }
                parts[^1].Add(code);
                used += calls;
            }
            var bodies = parts.Select(Compile).ToArray();
            Methods += bodies.Length;
            return bodies.Length == 1 ? bodies[0] : (a, o, f, start, rows) => { foreach (var body in bodies) body(a, o, f, start, rows); };
        }

        /// <summary>The methods compiled so far (forward and backward).</summary>
        public int Methods { get; private set; }

        // A run of more primitives is cut (the values crossing the cut go through memory) so that one run fits a method.
        private const int CallsPerMethod = 300, FormulaCalls = 6, MaxRunPrimitives = 24;

        private int calls;   // calls built so far, which the JIT inlines (a formula counts for the few it makes itself)

        private MethodCallExpression Inlined(MethodInfo method, int weight, params Expression[] arguments)
        {
            calls += weight;
            return Call(method, arguments);
        }

        private Body Compile(List<Expression> perRow)
        {
            var arraysParameter = Parameter(typeof(T[][]), "arrays");
            var offsetsParameter = Parameter(typeof(int[]), "offsets");
            var freshParameter = Parameter(typeof(bool[]), "fresh");
            var rowStart = Parameter(typeof(int), "rowStart");
            var rows = Parameter(typeof(int), "rows");
            var body = new List<Expression>();
            for (int k = 0; k < arrays.Length; k++)
            {
                body.Add(Assign(arrays[k], ArrayIndex(arraysParameter, Constant(k))));
                body.Add(Assign(offsets[k], ArrayIndex(offsetsParameter, Constant(k))));
            }
            for (int k = 0; k < fresh.Length; k++) body.Add(Assign(fresh[k], ArrayIndex(freshParameter, Constant(k))));
            var bases = rowBases.Select(b => (Expression)Assign(b.Value, Add(offsets[b.Key.Stream], Multiply(row, Constant(b.Key.RowStride)))));
            body.Add(For(row, rowStart, Add(rowStart, rows), 1, Block([.. bases, .. perRow])));
            return Lambda<Body>(Block([.. arrays, .. offsets, .. fresh, .. rowBases.Values, row, column], body), arraysParameter, offsetsParameter, freshParameter, rowStart, rows).Compile();
        }

        // One segment of a row's code and the calls in it.
        private (Expression Code, int Calls) Segment(Func<Expression> build)
        {
            int before = calls;
            var code = build();
            return (code, calls - before);
        }

        private List<(Expression Code, int Calls)> ForwardRow()
        {
            var code = new List<(Expression, int)>();
            for (int i = 0; i < program.Length; i++)
            {
                int run = runOfInstruction[i];
                if (run >= 0)
                {
                    if (runs[run].First == i && !IsComputed(i)) code.Add(Segment(() => ForwardRun(runs[run])));
                    continue;
                }
                // A slice or broadcast that backward reads (or the step returns) is copied out of its source once.
                int d = program[i].Destination;
                if (Kept(d) && viewOf[d] is { } from) code.Add(Segment(() => Columns(group.SlotCols[d], () => StoreOwn(d, LoadFrom(from)))));
            }
            return code;
        }

        private BlockExpression ForwardRun((int First, int Count) run) => Columns(group.SlotCols[program[run.First].Destination], primitives: run.Count, body: () =>
        {
            var registers = new Dictionary<int, ParameterExpression>();
            var code = new List<Expression>();
            for (int i = run.First; i < run.First + run.Count; i++)
            {
                var e = (ElementwiseInstruction<T>)program[i];
                Expression Operand(int o) => o >= 0 && registers.TryGetValue(o, out var v) ? v
                    : o >= 0 && computedFrom[o] is var (producer, start) ? ForwardOf(producer, p => LoadFrom(ValuePlace(p).Shifted(start)))
                    : LoadFrom(ValuePlace(o));
                var y = Variable(VectorType, $"s{e.Destination}");
                code.Add(Assign(y, ForwardOf(e, Operand)));
                registers[e.Destination] = y;
                if (stored[e.Destination]) code.Add(StoreOwn(e.Destination, y));
            }
            return Block(registers.Values, code);
        });

        // A value into its own place, and an output also into its copy's stream when the caller gives one.
        private Expression StoreOwn(int slot, Expression value)
        {
            int j = group.OutputIndexOfSlot[slot];
            if (j < 0) return StoreAt(OwnPlace(slot), value);
            var v = Variable(VectorType, $"out{slot}");
            var copy = new Place(OutputCopy(j, group.Externals.Length), 0, group.SlotCols[slot]);
            return Block([v], Assign(v, value), StoreAt(OwnPlace(slot), v), IfThen(NotEqual(arrays[copy.Stream], Constant(null, typeof(T[]))), StoreAt(copy, v)));
        }

        // y = f(a[, b]) through the primitive's vector form, its operands as given.
        private MethodCallExpression ForwardOf(ElementwiseInstruction<T> e, Func<int, Expression> operand) =>
            Inlined(e.Kernel.VectorForm!.Forward(VectorType), FormulaCalls, operand(e.A), e.Kernel.Arity == 2 ? operand(e.B) : Zero, Constant(e.P), Constant(e.Q));

        // The chain rules' arguments (g, a, b, y, p, q), loading only the values the primitive declares it reads; its
        // operands' columns shifted by `shift` (a value computed where its slices are read), its output never read there.
        private Expression[] ChainArguments(ElementwiseInstruction<T> e, Expression g, int shift)
        {
            bool reads = e.Kernel.BackwardReadsOperands;
            Expression Operand(int o) => reads ? LoadFrom(ValuePlace(o).Shifted(shift)) : Zero;
            Expression y = e.Kernel.BackwardReadsOutput ? LoadFrom(ValuePlace(e.Destination)) : Zero;
            return [g, Operand(e.A), e.Kernel.Arity == 2 ? Operand(e.B) : Zero, y, Constant(e.P), Constant(e.Q)];
        }

        // Toward a, then toward b, as the interpreter's kernel adds them.
        private IEnumerable<Expression> Chains(ElementwiseInstruction<T> e, Expression[] args, Func<int, Expression, Expression> into)
        {
            yield return into(e.A, Inlined(e.Kernel.VectorForm!.ChainA(VectorType), FormulaCalls, args));
            if (e.Kernel.Arity == 2) yield return into(e.B, Inlined(e.Kernel.VectorForm!.ChainB(VectorType)!, FormulaCalls, args));
        }

        private DefaultExpression Zero => Default(VectorType);

        private List<(Expression Code, int Calls)> BackwardRow()
        {
            var code = new List<(Expression, int)>();
            for (int i = program.Length - 1; i >= 0; i--)
            {
                int run = runOfInstruction[i];
                if (run >= 0)
                {
                    if (runs[run].First + runs[run].Count - 1 == i && !IsComputed(i)) code.Add(Segment(() => BackwardRun(runs[run])));
                    continue;
                }
                // A slice adds its gradient into its source's columns; a broadcast's sum over rows runs after the kernel.
                if (program[i] is NarrowInstruction<T> n && computedFrom[n.Destination] is null)
                {
                    var into = GradientPlace(n.Source).Shifted(n.Start);
                    code.Add(Segment(() => IfHasGradient(n.Source, Columns(n.Width, () => AddTo(n.Source, into, LoadFrom(GradientPlace(n.Destination)))))));
                }
            }
            return code;
        }

        private BlockExpression BackwardRun((int First, int Count) run) => Columns(group.SlotCols[program[run.First].Destination], primitives: run.Count, body: () =>
        {
            var gradients = new Dictionary<int, ParameterExpression>();
            var code = new List<Expression>();
            for (int i = run.First; i < run.First + run.Count; i++)
            {
                // Readers outside the run (and outside the group) have added theirs to memory already: start from it.
                int d = program[i].Destination;
                var g = Variable(VectorType, $"g{d}");
                gradients[d] = g;
                code.Add(Assign(g, gradientInMemory[d] ? LoadFrom(GradientPlace(d)) : Zero));
            }
            for (int i = run.First + run.Count - 1; i >= run.First; i--)
            {
                var e = (ElementwiseInstruction<T>)program[i];
                code.AddRange(Chains(e, ChainArguments(e, gradients[e.Destination], shift: 0), (o, chain) => Accumulate(o, chain, gradients)));
            }
            return Block(gradients.Values, code);
        });

        private Expression Accumulate(int operand, Expression chain, Dictionary<int, ParameterExpression> gradients)
        {
            if (operand >= 0 && gradients.TryGetValue(operand, out var g)) return Assign(g, Inlined(SumMethod, 1, g, chain));
            if (operand >= 0 && computedFrom[operand] is var (producer, start)) return ThroughProducer(producer, start, chain);
            return IfHasGradient(operand, AddTo(operand, GradientPlace(operand), chain));
        }

        // The slice's only contribution (0 + c), its place in the producer's gradient (0 + that), then the producer's chain
        // rules into its operands' columns: the additions the interpreter makes, in its order for every element.
        private BlockExpression ThroughProducer(ElementwiseInstruction<T> producer, int start, Expression chain)
        {
            var g = Variable(VectorType, $"g{producer.Destination}");
            var code = new List<Expression> { Assign(g, Inlined(SumMethod, 1, Zero, Inlined(SumMethod, 1, Zero, chain))) };
            code.AddRange(Chains(producer, ChainArguments(producer, g, start), (o, c) => IfHasGradient(o, AddTo(o, GradientPlace(o).Shifted(start), c))));
            return Block([g], code);
        }

        // gradient += contribution in memory; the only contribution to a cleared gradient is added to a zero register instead.
        private MethodCallExpression AddTo(int operand, Place place, Expression contribution)
        {
            if (operand >= 0) return StoreAt(place, Inlined(SumMethod, 1, writtenOnce[operand] ? Zero : LoadFrom(place), contribution));
            // An external's gradient that nothing has written yet this step (the caller says so per call) is written too.
            var start = WritesGradientOnce[~operand] ? Condition(fresh[~operand], Zero, LoadFrom(place)) : (Expression)LoadFrom(place);
            return StoreAt(place, Inlined(SumMethod, 1, start, contribution));
        }

        // An external may carry no gradient (its stream is null): then nothing is added to it.
        private Expression IfHasGradient(int operand, Expression code) =>
            operand >= 0 ? code : IfThen(NotEqual(arrays[ExternalGradients(~operand)], Constant(null, typeof(T[]))), code);

        // Element (r, c) of a place: the row's start in its stream, computed once per row (RowBase), plus a constant (and
        // the column, which an unrolled loop folds into the constant).
        private BinaryExpression Index(Place p) => p.Scalar ? Add(RowBase(p), Constant(p.Offset))
            : unrolledColumn is int c ? Add(RowBase(p), Constant(p.Offset + c))
            : Add(Add(RowBase(p), Constant(p.Offset)), column);

        private readonly Dictionary<(int Stream, int RowStride), ParameterExpression> rowBases = [];

        private ParameterExpression RowBase(Place p)
        {
            if (!rowBases.TryGetValue((p.Stream, p.RowStride), out var b)) rowBases[(p.Stream, p.RowStride)] = b = Variable(typeof(int), $"row{p.Stream}x{p.RowStride}");
            return b;
        }

        private MethodCallExpression LoadFrom(Place p)
        {
            Touch(p);
            return Inlined(p.Scalar ? BroadcastMethod : LoadMethod, 1, arrays[p.Stream], Index(p));
        }

        private MethodCallExpression StoreAt(Place p, Expression value)
        {
            Touch(p);
            return Inlined(StoreMethod, 1, arrays[p.Stream], Index(p), value);
        }

        // The width a place's accesses can reach is checked per call; record the farthest over all rows of the group.
        private int width;

        private void Touch(Place p)
        {
            long end = p.Offset + (long)(group.Rows - 1) * p.RowStride + (p.Scalar ? 1 : width);
            extent[p.Stream] = (int)Math.Max(extent[p.Stream], end);
        }

        /// <summary>The body once per vector of a row's <paramref name="cols"/> columns (the column variable steps by the lane count).</summary>
        /// <remarks>
        /// A short loop is unrolled (its column offsets constants, no loop branches): at W3 a row of a gate is two
        /// vectors.
        /// </remarks>
        private BlockExpression Columns(int cols, Func<Expression> body, int primitives = 1)
        {
            width = cols;
            int vectors = cols / Lanes;
            if (vectors > 1 && vectors <= UnrolledVectors && vectors * primitives <= UnrolledPrimitives)
            {
                // Unrolled only while the copies' calls stay within the inlining budget of one method.
                int before = calls;
                unrolledColumn = 0;
                var copies = new List<Expression> { body() };
                int each = calls - before;
                if (vectors * each <= UnrolledCalls)
                {
                    for (int v = 1; v < vectors; v++)
                    {
                        unrolledColumn = v * Lanes;
                        copies.Add(body());
                    }
                    unrolledColumn = null;
                    return Block(copies);
                }
                calls = before;
                unrolledColumn = null;
            }
            return For(column, Constant(0), Constant(cols), Lanes, body());
        }

        // The JIT inlines a few hundred calls into one method and then stops (each load, store and formula is one), so
        // unrolling stays small: at most 8 vectors, 32 primitive bodies and 150 calls per loop.
        private const int UnrolledVectors = 8, UnrolledPrimitives = 32, UnrolledCalls = 150;
        private int? unrolledColumn;

        private static BlockExpression For(ParameterExpression variable, Expression from, Expression to, int step, Expression body)
        {
            var done = Label("done");
            return Block(
                Assign(variable, from),
                Loop(IfThenElse(LessThan(variable, to), Block(body, AddAssign(variable, Constant(step))), Break(done)), done));
        }
    }
}
