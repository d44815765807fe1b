using System.Numerics;
using static AutoDiffLstm.Tests.Ops.SpecShapes;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>The value ranges and regimes the catalogue draws from.</summary>
internal static class SpecRanges
{
    public static readonly ValueRange Any = new(-3, 3, 0);
    /// <summary>Log, Sqrt: well inside the domain, where the derivative 1/x (or 1/2sqrt x) is at most 10.</summary>
    public static readonly ValueRange Positive = new(0.1, 5, 1);
    /// <summary>Pow: a positive base, so that non-integer and negative exponents are defined.</summary>
    public static readonly ValueRange PositiveBase = new(0.2, 3, 1);
    /// <summary>Divisors: |b| &gt;= 0.5 keeps a / b^2 below 12.</summary>
    public static readonly ValueRange AwayFromZero = new(-3, 3, 1, [0], 0.5);
    /// <summary>Relu: the kink at 0 has no derivative; 1e-3 is a thousand steps away from it.</summary>
    public static readonly ValueRange AwayFromKink = new(-3, 3, 1, [0], 1e-3);
    /// <summary>Clamp: away from every bound the catalogue uses (see <see cref="PrimitiveSpecs{T}.ClampBounds"/>).</summary>
    public static readonly ValueRange AwayFromClampBounds = new(-3, 3, 0, [-1, -0.5, 0.5, 1.5], 1e-3);

    /// <summary>
    /// Maximum's second operand: the 4-decimal grid moved by half a step (5e-5), so that no drawn or shrunk value ties
    /// with one of <see cref="Any"/>'s (the kink, where max has no derivative); a coincidence on a shared grid failed about
    /// one run in fifty.
    /// </summary>
    public static readonly ValueRange OffsetFromAny = new(-2.5, 2.5, 1.00005, GridOffset: 5e-5);

    /// <summary>Scan coefficients: |a| up to 1.5, so that five steps both contract and grow (1.5^5 ~ 7.6) without blowing up.</summary>
    public static readonly ValueRange Coefficient = new(-1.5, 1.5, 0);

    public static readonly Regime Normal = new("normal", [Any]);
    /// <summary>tanh and sigmoid saturate: at |x| = 20 the derivative is ~1e-9 (sigmoid) or ~1e-17 (tanh).</summary>
    public static readonly Regime Saturating = new("saturating |x| <= 20", [new ValueRange(-20, 20, 0)]);
    /// <summary>Logits of magnitude up to 1000: exp overflows without the max shift. Step 1e-3, see <see cref="Regime"/>.</summary>
    public static readonly Regime LargeLogits = new("logits |x| <= 1000", [new ValueRange(-1000, 1000, 0)], Step: 1e-3);
}

/// <summary>Shape helpers for layouts.</summary>
internal static class SpecShapes
{
    public static int[] Take(int[] dims, int rank) => dims[..rank];

    /// <summary>Knob range for <see cref="BroadcastOperand"/>'s drop: 0..3 keep every axis, 4 drops one, 5 drops all (a scalar).</summary>
    public const int DropKnob = 6;

    /// <summary>
    /// An operand that broadcasts to <paramref name="full"/>: dimension i set to 1 where bit i of <paramref name="ones"/> is
    /// set, and leading dimensions dropped per <paramref name="drop"/> (see <see cref="DropKnob"/>).
    /// </summary>
    public static int[] BroadcastOperand(int[] full, int drop, int ones)
    {
        drop = drop < 4 ? 0 : drop == 4 ? Math.Min(1, full.Length) : full.Length;
        return full.Select((d, i) => (ones >> i & 1) == 1 ? 1 : d).Skip(drop).ToArray();
    }

    public static int[] With(int[] shape, int axis, int size)
    {
        var r = (int[])shape.Clone();
        r[axis] = size;
        return r;
    }

    public static int[] Insert(int[] shape, int axis, int size) => [.. shape[..axis], size, .. shape[axis..]];

    /// <summary>An axis as the call sees it: the positive index, or the equivalent negative one when <paramref name="negative"/>.</summary>
    public static int AxisArg(int axis, int rank, int negative) => negative == 1 ? axis - rank : axis;
}

/// <summary>
/// The catalogue: one spec per primitive of the engine (named as its backward rule, the gradient checkpoint's two
/// included) and one per public operation composed of primitives (Unsqueeze, Squeeze, Select, Split, Chunk, Stack,
/// Mean). Written once, generic in the element type, so that the double gradient check and the float run use the very
/// same calls and layouts.
/// </summary>
internal static class PrimitiveSpecs<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The constant of the tensor-with-scalar operator forms (x + c, c / x, ...).</summary>
    private const double Constant = 1.75;

    /// <summary>Half a step of the value grid (<see cref="PrimitiveCases"/>: 4 decimals): a constant moved by it equals no drawn or shrunk value.</summary>
    private static readonly T OffGrid = T.CreateChecked(5e-5);

    /// <summary>(min, max) pairs for Clamp, including the degenerate min == max.</summary>
    public static readonly (double Min, double Max)[] ClampBounds = [(-0.5, 0.5), (-1, 1.5), (0.5, 0.5), (-1, -0.5)];

    /// <summary>Exponents for Pow: squares, cubes, roots, reciprocals, 0 and 1.</summary>
    private static readonly double[] PowExponents = [2, 1, 3, 0.5, -1, 1.5, -2.5, 0];

    private static T C(double v) => T.CreateChecked(v);

    public static readonly PrimitiveSpec<T>[] All =
    [
        Binary("Add", (a, b) => a.Add(b), (a, c) => a + c, (c, b) => c + b, SpecRanges.Any),
        Binary("Subtract", (a, b) => a.Subtract(b), (a, c) => a - c, (c, b) => c - b, SpecRanges.Any),
        Binary("Multiply", (a, b) => a.Multiply(b), (a, c) => a * c, (c, b) => c * b, SpecRanges.Any),
        // No operand pair can tie (max's kink: one-sided derivatives 1 and 0, a central difference of 1/2): the right
        // operand's values lie on another grid than the left's, and the constant is moved off the left's grid.
        Binary("Maximum", (a, b) => Tensor.Maximum(a, b), (a, c) => Tensor.Maximum(a, Tensor.Scalar(c + OffGrid)),
            (c, b) => Tensor.Maximum(Tensor.Scalar(c), b), SpecRanges.OffsetFromAny),
        Binary("Divide", (a, b) => a.Divide(b), (a, c) => a / c, (c, b) => c / b, SpecRanges.AwayFromZero),
        Unary("Negate", x => -x, SpecRanges.Normal),
        Unary("Exp", x => x.Exp(), SpecRanges.Normal),
        Unary("Log", x => x.Log(), new Regime("positive", [SpecRanges.Positive])),
        Unary("Tanh", x => x.Tanh(), SpecRanges.Normal, SpecRanges.Saturating),
        Unary("Sigmoid", x => x.Sigmoid(), SpecRanges.Normal, SpecRanges.Saturating),
        Unary("Relu", x => x.Relu(), new Regime("away from the kink", [SpecRanges.AwayFromKink])),
        Unary("Square", x => x.Square(), SpecRanges.Normal),
        Unary("Sqrt", x => x.Sqrt(), new Regime("positive", [SpecRanges.Positive])),
        Unary("Sin", x => x.Sin(), SpecRanges.Normal),
        Unary("Cos", x => x.Cos(), SpecRanges.Normal),
        new("Pow", ["Pow"], "1", "elementwise, rank 0..4; exponent from " + string.Join(", ", PowExponents), [new Regime("positive base", [SpecRanges.PositiveBase])],
            Dims: 4, Knobs: [5, PowExponents.Length],
            (d, k) => Layout.Of([Take(d, k[0])], k[1]),
            (c, x) => x[0].Pow(PowExponents[c.Args[0]])),
        new("Clamp", ["Clamp"], "1", "elementwise, rank 0..4; bounds from " + string.Join(", ", ClampBounds), [new Regime("away from the bounds", [SpecRanges.AwayFromClampBounds])],
            Dims: 4, Knobs: [5, ClampBounds.Length],
            (d, k) => Layout.Of([Take(d, k[0])], k[1]),
            (c, x) => x[0].Clamp(ClampBounds[c.Args[0]].Min, ClampBounds[c.Args[0]].Max)),
        MatMul(),
        Linear(),
        Reshape(),
        new("Unsqueeze", ["Reshape"], "1", "rank 0..4, axis 0..rank (or negative)", [SpecRanges.Normal],
            Dims: 4, Knobs: [5, 5, 2],
            (d, k) => Layout.Of([Take(d, k[0])], AxisArg(k[1] % (k[0] + 1), k[0] + 1, k[2])),
            (c, x) => x[0].Unsqueeze(c.Args[0])),
        new("Squeeze", ["Reshape"], "1", "rank 1..4 with a size-1 axis (or negative)", [SpecRanges.Normal],
            Dims: 4, Knobs: [4, 4, 2],
            (d, k) =>
            {
                int rank = k[0] + 1, axis = k[1] % rank;
                return Layout.Of([Insert(Take(d, rank - 1), axis, 1)], AxisArg(axis, rank, k[2]));
            },
            (c, x) => x[0].Squeeze(c.Args[0])),
        Transpose(),
        AxisOp("Narrow", ["Narrow"], extraKnobs: [5, 5], (shape, axis, e) =>
            {
                int start = e[0] % shape[axis];
                return [start, 1 + e[1] % (shape[axis] - start)];
            },
            (c, x) => x[0].Narrow(c.Args[0], c.Args[1], c.Args[2])),
        AxisOp("Select", ["Narrow"], extraKnobs: [5], (shape, axis, e) => [e[0] % shape[axis]],
            (c, x) => x[0].Select(c.Args[0], c.Args[1])),
        // Split and Chunk return several tensors; concatenating them in reverse order gives one output whose gradient
        // still routes every part back to its own slice (and exercises parts of size 0 for Split).
        AxisOp("Split", ["Narrow", "Concat"], extraKnobs: [6, 6], (shape, axis, e) =>
            {
                int n = shape[axis], a = e[0] % (n + 1), b = e[1] % (n + 1);
                (a, b) = (Math.Min(a, b), Math.Max(a, b));
                return [a, b - a, n - b];
            },
            (c, x) => Tensor.Concat(c.Args[0], x[0].Split(c.Args[0], c.Args[1..]).Reverse().ToArray())),
        Chunk(),
        Concat(),
        Stack(),
        Reduction("Sum", ["Sum"], (x, mode, axis) => mode switch { 0 => x.Sum(), 1 => x.Sum(axis), _ => x.Sum(axis, keepDim: true) }),
        Reduction("Mean", ["Sum", "Multiply"], (x, mode, axis) => mode switch { 0 => x.Mean(), 1 => x.Mean(axis), _ => x.Mean(axis, keepDim: true) }),
        Softmax("Softmax", (x, axis) => axis is null ? x.Softmax() : x.Softmax(axis.Value)),
        Softmax("LogSoftmax", (x, axis) => axis is null ? x.LogSoftmax() : x.LogSoftmax(axis.Value)),
        CrossEntropy(),
        new("MeanSquaredError", ["MeanSquaredError"], "2", "prediction and target of equal shape, rank 0..4", [SpecRanges.Normal],
            Dims: 4, Knobs: [5],
            (d, k) => Layout.Of([Take(d, k[0]), Take(d, k[0])]),
            (c, x) => x[0].MeanSquaredError(x[1])),
        Embedding(),
        Where(),
        // A user-defined primitive goes through every property the built-in ones do.
        Unary("UserSoftplus", x => UserPrimitives<T>.Softplus.Apply(x), SpecRanges.Normal),
        // Scans over T = 1..5 steps of [] .. [d, d] lanes: the chunked kernel (T > 256) is covered by ScanProperties.
        new("Scan", ["Scan"], "3", "a, b [T, ...] (rank 1..3), h0 [...]", [new Regime("contracting and expanding", [SpecRanges.Coefficient, SpecRanges.Any])],
            Dims: 3, Knobs: [3],
            (d, k) =>
            {
                var step = Take(d[1..], k[0]);
                return new Layout([[d[0], .. step], [d[0], .. step], step], [0, 1, 1], []);
            },
            (c, x) => Tensor.Scan(x[0], x[1], x[2])),
        // The reverse scan a scan's differentiable backward pass records (g_t = a_{t+1} g_{t+1} + dy_t).
        new("ScanTranspose", ["ScanTranspose"], "2", "a, dy [T, ...] (rank 1..3)", [new Regime("contracting and expanding", [SpecRanges.Coefficient, SpecRanges.Any])],
            Dims: 3, Knobs: [3],
            (d, k) =>
            {
                var step = Take(d[1..], k[0]);
                return new Layout([[d[0], .. step], [d[0], .. step]], [0, 1], []);
            },
            (c, x) => Tensor.ScanTranspose(x[0], x[1])),
        new("LogScan", ["LogScan"], "3", "log a, log b [T, ...] (rank 1..3), log h0 [...]", [SpecRanges.Normal],
            Dims: 3, Knobs: [3],
            (d, k) =>
            {
                var step = Take(d[1..], k[0]);
                return Layout.Of([[d[0], .. step], [d[0], .. step], step]);
            },
            (c, x) => Tensor.LogScan(x[0], x[1], x[2])),
        // A checkpointed segment records one Checkpoint entry and one CheckpointOutput per distinct output; backward
        // runs the segment again. One output, then several with a repeat and a passed-through input.
        new("Checkpoint", ["Checkpoint", "CheckpointOutput"], "2", "segment over equal shapes, rank 0..4", [SpecRanges.Normal],
            Dims: 4, Knobs: [5],
            (d, k) => Layout.Of([Take(d, k[0]), Take(d, k[0])]),
            (c, x) => GradientCheckpoint.Run(xs => (xs[0].Tanh() * xs[1] + xs[0]).Sigmoid(), x)),
        new("CheckpointOutput", ["Checkpoint", "CheckpointOutput", "Reshape", "Concat"], "2", "segment with 4 outputs (one repeated, one an input), rank 0..4", [SpecRanges.Normal],
            Dims: 4, Knobs: [5],
            (d, k) => Layout.Of([Take(d, k[0]), Take(d, k[0])]),
            (c, x) =>
            {
                var outputs = GradientCheckpoint.Run(xs => { var t = xs[0] * xs[1].Tanh(); return [t, xs[0], t.Exp(), t]; }, x);
                return Tensor.Concat(0, outputs.Select(o => o.Reshape(-1)).ToArray());
            }),
    ];

    /// <summary>Elementwise with broadcasting: output rank 0..4, each operand with dropped leading axes and size-1 axes (down to a scalar), or a tensor-with-constant operator form.</summary>
    private static PrimitiveSpec<T> Binary(string name, Func<Tensor<T>, Tensor<T>, Tensor<T>> op,
        Func<Tensor<T>, T, Tensor<T>> withConstantRight, Func<T, Tensor<T>, Tensor<T>> withConstantLeft, ValueRange right) =>
        new(name, [name], "2 (or 1 with a constant operand)", "elementwise with broadcasting pairs, size-1 axes and scalars",
            [new Regime("normal", [SpecRanges.Any, right])],
            Dims: 4, Knobs: [5, DropKnob, 16, DropKnob, 16, 5],
            (d, k) =>
            {
                var full = Take(d, k[0]);
                // B's size-1 axes avoid A's, so that the output keeps the full shape and both operands really broadcast.
                int[] a = BroadcastOperand(full, k[1], k[2]), b = BroadcastOperand(full, k[3], k[4] & ~k[2]);
                // Three in five calls broadcast two tensors; the others use the operator with a constant.
                return k[5] switch
                {
                    < 3 => new Layout([a, b], [0, 1], [0]),
                    3 => new Layout([a], [0], [1]),      // tensor OP constant: only the left operand is an input
                    _ => new Layout([b], [1], [2]),      // constant OP tensor: the input takes the right operand's role
                };
            },
            (c, x) => c.Args[0] switch
            {
                0 => op(x[0], x[1]),
                1 => withConstantRight(x[0], C(Constant)),
                _ => withConstantLeft(C(Constant), x[0]),
            });

    private static PrimitiveSpec<T> Unary(string name, Func<Tensor<T>, Tensor<T>> f, params Regime[] regimes) =>
        new(name, [name], "1", "elementwise, rank 0..4", regimes,
            Dims: 4, Knobs: [5],
            (d, k) => Layout.Of([Take(d, k[0])]),
            (c, x) => f(x[0]));

    /// <summary>[M,K]@[K,N], the folded [..., M, K]@[K,N] (rank 3 and 4) and the batched [B,M,K]@[B,K,N], each with all four transpose flags.</summary>
    private static PrimitiveSpec<T> MatMul() =>
        new("MatMul", ["MatMul"], "2", "matmul-compatible: 2-D, folded [L?, B, M, K]@[K, N], batched [B, M, K]@[B, K, N]; transposes", [SpecRanges.Normal],
            Dims: 5, Knobs: [3, 2, 2, 2],
            (d, k) =>
            {
                int m = d[0], kk = d[1], n = d[2], batch = d[3], extra = d[4];
                bool ta = k[1] == 1, tb = k[2] == 1;
                int[] lead = k[0] switch { 0 => [], 1 => k[3] == 1 ? [extra, batch] : [batch], _ => [batch] };
                int[] a = [.. lead, ta ? kk : m, ta ? m : kk];
                int[] b = [.. (k[0] == 2 ? lead : []), tb ? n : kk, tb ? kk : n];
                return Layout.Of([a, b], k[1], k[2]);
            },
            (c, x) => x[0].MatMul(x[1], transposeThis: c.Args[0] == 1, transposeOther: c.Args[1] == 1));

    /// <summary>x @ W^T + b with x of shape [B, In], [B, T, In] or [In], with and without bias.</summary>
    private static PrimitiveSpec<T> Linear() =>
        new("Linear", ["Linear"], "3 (2 without bias)", "x [..., In] (1-D, 2-D, 3-D), W [Out, In], b [Out]", [SpecRanges.Normal],
            Dims: 4, Knobs: [3, 2],
            (d, k) =>
            {
                int batch = d[0], time = d[1], inF = d[2], outF = d[3];
                int[] x = k[0] switch { 0 => [batch, inF], 1 => [batch, time, inF], _ => [inF] };
                return Layout.Of(k[1] == 0 ? [x, [outF, inF], [outF]] : [x, [outF, inF]], k[1]);
            },
            (c, x) => x[0].Linear(x[1], c.Args[0] == 0 ? x[2] : null));

    /// <summary>Reshape of a rank 0..4 tensor to its reverse, a flat vector, [1, n, 1] or its first two axes merged, optionally with one -1.</summary>
    private static PrimitiveSpec<T> Reshape() =>
        new("Reshape", ["Reshape"], "1", "rank 0..4 to reversed / flat / [1, n, 1] / merged shapes, with or without -1", [SpecRanges.Normal],
            Dims: 4, Knobs: [5, 4, 5],
            (d, k) =>
            {
                var shape = Take(d, k[0]);
                int n = PrimitiveCases.Size(shape);
                int[] target = k[1] switch
                {
                    0 => shape.Reverse().ToArray(),
                    1 => [n],
                    2 => [1, n, 1],
                    _ => shape.Length >= 2 ? [shape[0] * shape[1], .. shape[2..]] : [.. shape, 1],
                };
                if (k[2] > 0 && target.Length > 0) target[(k[2] - 1) % target.Length] = -1;
                return Layout.Of([shape], target);
            },
            (c, x) => x[0].Reshape(c.Args));

    /// <summary>Transpose of two axes of a rank 2..4 tensor, positive, negative or default (-2, -1) arguments.</summary>
    private static PrimitiveSpec<T> Transpose() =>
        new("Transpose", ["Transpose"], "1", "rank 2..4, any pair of axes (equal axes included)", [SpecRanges.Normal],
            Dims: 4, Knobs: [3, 4, 4, 3],
            (d, k) =>
            {
                int rank = k[0] + 2, d0 = k[1] % rank, d1 = (d0 + 1 + k[2]) % rank;
                return k[3] == 2 ? Layout.Of([Take(d, rank)], rank - 2, rank - 1, 1) : Layout.Of([Take(d, rank)], AxisArg(d0, rank, k[3]), AxisArg(d1, rank, k[3]), 0);
            },
            (c, x) => c.Args[2] == 1 ? x[0].Transpose() : x[0].Transpose(c.Args[0], c.Args[1]));

    /// <summary>An operation along one axis of a rank 1..4 tensor; args are [axis, ..extra(shape, axis, extraKnobs)].</summary>
    private static PrimitiveSpec<T> AxisOp(string name, string[] rules, int[] extraKnobs, Func<int[], int, int[], int[]> extra, Func<PrimitiveCase, Tensor<T>[], Tensor<T>> apply) =>
        new(name, rules, "1", "axis op, rank 1..4, axis positive or negative", [SpecRanges.Normal],
            Dims: 4, Knobs: [4, 4, 2, .. extraKnobs],
            (d, k) =>
            {
                int rank = k[0] + 1, axis = k[1] % rank;
                var shape = Take(d, rank);
                return Layout.Of([shape], [AxisArg(axis, rank, k[2]), .. extra(shape, axis, k[3..])]);
            },
            apply);

    private static PrimitiveSpec<T> Chunk() =>
        new("Chunk", ["Narrow", "Concat"], "1", "axis op, rank 1..4, axis length a multiple of 1..3 chunks", [SpecRanges.Normal],
            Dims: 4, Knobs: [4, 4, 2, 3],
            (d, k) =>
            {
                int rank = k[0] + 1, axis = k[1] % rank, chunks = k[3] + 1;
                var shape = Take(d, rank);
                return Layout.Of([With(shape, axis, shape[axis] * chunks)], AxisArg(axis, rank, k[2]), chunks);
            },
            (c, x) => Tensor.Concat(c.Args[0], x[0].Chunk(c.Args[1], c.Args[0]).Reverse().ToArray()));

    /// <summary>1..4 parts of rank 1..4 that differ only along the concatenation axis.</summary>
    private static PrimitiveSpec<T> Concat() =>
        new("Concat", ["Concat"], "1..4", "parts equal outside the axis, rank 1..4", [SpecRanges.Normal],
            Dims: 8, Knobs: [4, 4, 4, 2],
            (d, k) =>
            {
                int parts = k[0] + 1, rank = k[1] + 1, axis = k[2] % rank;
                var shape = Take(d, rank);
                return Layout.Of(Enumerable.Range(0, parts).Select(p => With(shape, axis, d[4 + p])).ToArray(), AxisArg(axis, rank, k[3]));
            },
            (c, x) => Tensor.Concat(c.Args[0], x));

    /// <summary>1..4 equal parts of rank 0..4 stacked along a new axis 0..rank.</summary>
    private static PrimitiveSpec<T> Stack() =>
        new("Stack", ["Concat"], "1..4", "equal parts, rank 0..4, new axis 0..rank", [SpecRanges.Normal],
            Dims: 4, Knobs: [4, 5, 5, 2],
            (d, k) =>
            {
                int parts = k[0] + 1, rank = k[1], axis = k[2] % (rank + 1);
                return Layout.Of(Enumerable.Repeat(Take(d, rank), parts).ToArray(), AxisArg(axis, rank + 1, k[3]));
            },
            (c, x) => Tensor.Stack(c.Args[0], x));

    /// <summary>Over all elements (rank 0..4), or along an axis with or without keepDim; args are [mode, axis].</summary>
    private static PrimitiveSpec<T> Reduction(string name, string[] rules, Func<Tensor<T>, int, int, Tensor<T>> f) =>
        new(name, rules, "1", "all elements (rank 0..4), or one axis with/without keepDim", [SpecRanges.Normal],
            Dims: 4, Knobs: [5, 3, 4, 2],
            (d, k) =>
            {
                int rank = k[0], mode = rank == 0 ? 0 : k[1];
                int axis = rank == 0 ? 0 : AxisArg(k[2] % rank, rank, k[3]);
                return Layout.Of([Take(d, rank)], mode, axis);
            },
            (c, x) => f(x[0], c.Args[0], c.Args[1]));

    /// <summary>Along each axis of a rank 1..4 tensor (positive, negative or the default last axis), normal and 1000-magnitude logits.</summary>
    private static PrimitiveSpec<T> Softmax(string name, Func<Tensor<T>, int?, Tensor<T>> f) =>
        new(name, [name], "1", "axis op, rank 1..4, any axis", [SpecRanges.Normal, SpecRanges.LargeLogits],
            Dims: 4, Knobs: [4, 4, 3],
            (d, k) =>
            {
                int rank = k[0] + 1, axis = k[1] % rank;
                return k[2] == 2 ? Layout.Of([Take(d, rank)], rank - 1, 1) : Layout.Of([Take(d, rank)], AxisArg(axis, rank, k[2]), 0);
            },
            (c, x) => f(x[0], c.Args[1] == 1 ? null : c.Args[0]));

    /// <summary>Logits [N, C], [C] or [N, T, C] with random class targets, normal and 1000-magnitude logits.</summary>
    private static PrimitiveSpec<T> CrossEntropy() =>
        new("CrossEntropy", ["CrossEntropy"], "1 (+ integer targets)", "logits [N, C] / [C] / [N, T, C], one target per row", [SpecRanges.Normal, SpecRanges.LargeLogits],
            Dims: 3, Knobs: [3],
            (d, k) =>
            {
                int[] shape = k[0] switch { 0 => [d[0], d[2]], 1 => [d[2]], _ => [d[0], d[1], d[2]] };
                return new Layout([shape], [0], [], IdCount: PrimitiveCases.Size(shape) / d[2], IdRange: d[2]);
            },
            (c, x) => x[0].CrossEntropy(c.Ids));

    /// <summary>A table [V, D] and ids of shape [n + 1] or [n + 1, m]; at least two lookups with the last id repeating the first, so accumulation of repeated rows is always exercised.</summary>
    private static PrimitiveSpec<T> Embedding() =>
        new("Embedding", ["Embedding"], "1 (+ integer ids)", "table [V, D], ids [n] or [n, m] with repeats", [SpecRanges.Normal],
            Dims: 4, Knobs: [2],
            (d, k) =>
            {
                int[] idsShape = k[0] == 0 ? [d[2] + 1] : [d[2] + 1, d[3]];
                return new Layout([[d[0], d[1]]], [0], idsShape, IdCount: PrimitiveCases.Size(idsShape), IdRange: d[0], RepeatFirstId: true);
            },
            (c, x) => x[0].Embedding(c.Ids, c.Args));

    /// <summary>Branches of rank 0..4 and a mask of 0, 1 and -2.5 (any non-zero selects) that broadcasts to them.</summary>
    private static PrimitiveSpec<T> Where() =>
        new("Where", ["Where"], "2 (+ a constant mask)", "equal branches rank 0..4, mask broadcasting to them", [SpecRanges.Normal],
            Dims: 4, Knobs: [5, DropKnob, 16],
            (d, k) =>
            {
                var shape = Take(d, k[0]);
                var mask = BroadcastOperand(shape, k[1], k[2]);
                return new Layout([shape, shape], [0, 0], mask, IdCount: PrimitiveCases.Size(mask), IdRange: 3);
            },
            (c, x) =>
            {
                var bits = c.Ids.Select(id => C(id switch { 0 => 0, 1 => 1, _ => -2.5 })).ToArray();
                var mask = c.Args.Length == 0 ? Tensor.Scalar(bits[0]) : Tensor.FromArray(bits, c.Args);
                return Tensor.Where(mask, x[0], x[1]);
            });
}

/// <summary>Non-generic access to the catalogue (for xunit member data).</summary>
internal static class PrimitiveSpecs
{
    public static IEnumerable<object[]> Names => PrimitiveSpecs<double>.All.Select(s => new object[] { s.Name });

    public static PrimitiveSpec<T> Get<T>(string name) where T : unmanaged, IFloatingPointIeee754<T> =>
        PrimitiveSpecs<T>.All.Single(s => s.Name == name);
}
