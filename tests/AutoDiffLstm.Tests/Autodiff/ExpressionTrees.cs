using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>Unary nodes of a random expression. Some are short fixed compositions that keep values in a safe domain
/// (log and sqrt of 1 + x^2, exp of tanh) so that any nesting stays finite and smooth.</summary>
internal enum UnaryOp
{
    Tanh, Sigmoid, Negate, Square, ExpOfTanh, LogOfOnePlusSquare, SqrtOfOnePlusSquare, PowOfSigmoid,
    Softmax, LogSoftmax, SumKeepDim, MeanKeepDim, SumAll, TransposedSigmoid, NarrowThenConcat, ReshapeRoundTrip,
}

/// <summary>Binary nodes; operands broadcast against each other.</summary>
internal enum BinaryOp { Add, Subtract, Multiply, DivideByOnePlusSquare }

/// <summary>A random differentiable expression over the inputs x0, x1, ...</summary>
internal abstract record Expr
{
    public abstract Tensor<double> Evaluate(Tensor<double>[] inputs);
    public abstract int MaxInput { get; }
    public abstract IEnumerable<Expr> Shrink();
    /// <summary>The same expression with every input index >= <paramref name="count"/> replaced by x0.</summary>
    public abstract Expr Restrict(int count);
}

internal sealed record InputExpr(int Index) : Expr
{
    public override Tensor<double> Evaluate(Tensor<double>[] inputs) => inputs[Index];
    public override int MaxInput => Index;
    public override IEnumerable<Expr> Shrink() { if (Index > 0) yield return new InputExpr(0); }
    public override Expr Restrict(int count) => Index < count ? this : new InputExpr(0);
    public override string ToString() => $"x{Index}";
}

internal sealed record UnaryExpr(UnaryOp Op, int Axis, Expr Arg) : Expr
{
    public override int MaxInput => Arg.MaxInput;

    public override Tensor<double> Evaluate(Tensor<double>[] inputs)
    {
        var x = Arg.Evaluate(inputs);
        // Axis operations need rank >= 1: a scalar is viewed as [1] (which broadcasts like the scalar).
        if (x.Rank == 0 && Op is UnaryOp.Softmax or UnaryOp.LogSoftmax or UnaryOp.SumKeepDim or UnaryOp.MeanKeepDim or UnaryOp.NarrowThenConcat)
            x = x.Reshape(1);
        int axis = x.Rank == 0 ? 0 : Axis % x.Rank;
        switch (Op)
        {
            case UnaryOp.Tanh: return x.Tanh();
            case UnaryOp.Sigmoid: return x.Sigmoid();
            case UnaryOp.Negate: return -x;
            case UnaryOp.Square: return x.Square();
            case UnaryOp.ExpOfTanh: return x.Tanh().Exp();
            case UnaryOp.LogOfOnePlusSquare: return (x.Square() + 1.0).Log();
            case UnaryOp.SqrtOfOnePlusSquare: return (x.Square() + 1.0).Sqrt();
            case UnaryOp.PowOfSigmoid: return x.Sigmoid().Pow(1.5);
            case UnaryOp.Softmax: return x.Softmax(axis);
            case UnaryOp.LogSoftmax: return x.LogSoftmax(axis);
            case UnaryOp.SumKeepDim: return x.Sum(axis, keepDim: true);
            case UnaryOp.MeanKeepDim: return x.Mean(axis, keepDim: true);
            case UnaryOp.SumAll: return x.Sum();
            case UnaryOp.TransposedSigmoid:
                return x.Rank < 2 ? x.Sigmoid() : x.Transpose(0, -1).Sigmoid().Transpose(0, -1);
            case UnaryOp.NarrowThenConcat:
            {
                int n = x.Shape[axis], cut = n / 2;
                return cut == 0 ? Tensor.Concat(axis, x.Narrow(axis, 0, n)) : Tensor.Concat(axis, x.Narrow(axis, 0, cut), x.Narrow(axis, cut, n - cut));
            }
            case UnaryOp.ReshapeRoundTrip: return x.Reshape(-1).Tanh().Reshape([.. x.Shape]);
            default: throw new InvalidOperationException($"{Op} has no evaluation rule.");
        }
    }

    public override IEnumerable<Expr> Shrink()
    {
        yield return Arg;
        if (Op != UnaryOp.Tanh) yield return this with { Op = UnaryOp.Tanh };
        foreach (var a in Arg.Shrink()) yield return this with { Arg = a };
    }

    public override Expr Restrict(int count) => this with { Arg = Arg.Restrict(count) };

    public override string ToString() => Op is UnaryOp.Softmax or UnaryOp.LogSoftmax or UnaryOp.SumKeepDim or UnaryOp.MeanKeepDim or UnaryOp.NarrowThenConcat
        ? $"{Op}[axis {Axis}]({Arg})" : $"{Op}({Arg})";
}

internal sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right) : Expr
{
    public override int MaxInput => Math.Max(Left.MaxInput, Right.MaxInput);

    public override Tensor<double> Evaluate(Tensor<double>[] inputs)
    {
        var (a, b) = (Left.Evaluate(inputs), Right.Evaluate(inputs));
        return Op switch
        {
            BinaryOp.Add => a + b,
            BinaryOp.Subtract => a - b,
            BinaryOp.Multiply => a * b,
            BinaryOp.DivideByOnePlusSquare => a / (b.Square() + 1.0),
            _ => throw new InvalidOperationException($"{Op} has no evaluation rule."),
        };
    }

    public override IEnumerable<Expr> Shrink()
    {
        yield return Left;
        yield return Right;
        foreach (var l in Left.Shrink()) yield return this with { Left = l };
        foreach (var r in Right.Shrink()) yield return this with { Right = r };
    }

    public override Expr Restrict(int count) => this with { Left = Left.Restrict(count), Right = Right.Restrict(count) };

    public override string ToString() => $"{Op}({Left}, {Right})";
}

/// <summary>
/// An input's shape relative to the output frame S: the last <see cref="Rank"/> dimensions of S, with the marked ones
/// set to 1, so that every pair of inputs broadcasts (and gradients must be reduced back to each input's shape).
/// </summary>
internal sealed record InputShape(bool[] Ones)
{
    public int Rank => Ones.Length;

    public int[] In(int[] frame) => frame[^Rank..].Select((d, i) => Ones[i] ? 1 : d).ToArray();

    public override string ToString() => string.Concat(Ones.Select(o => o ? '1' : '*'));
}

/// <summary>One random case: the frame S, the inputs' shapes, the expression and the seed of the input values.</summary>
internal sealed record ChainCase(int[] Frame, InputShape[] Inputs, Expr Tree, int Seed)
{
    public Tensor<double>[] MakeInputs()
    {
        var rng = new Rng((ulong)Seed);
        return Inputs.Select(s => Tensor.RandomUniform<double>(rng, s.In(Frame), -1, 1)).ToArray();
    }

    public override string ToString() =>
        $"{Tree} with {string.Join(", ", Inputs.Select((s, i) => $"x{i}: {ShapeText(s.In(Frame))}"))} (seed {Seed})";

    private static string ShapeText(int[] s) => "[" + string.Join(", ", s) + "]";

    /// <summary>Smaller cases first: a smaller expression, fewer inputs, smaller or fewer dimensions.</summary>
    public IEnumerable<ChainCase> Shrink()
    {
        foreach (var t in Tree.Shrink()) yield return this with { Tree = t };
        if (Inputs.Length > 1)
            yield return this with { Inputs = Inputs[..^1], Tree = Tree.Restrict(Inputs.Length - 1) };
        if (Frame.Length > 1)
        {
            int rank = Frame.Length - 1;
            yield return this with
            {
                Frame = Frame[1..],
                Inputs = Inputs.Select(s => new InputShape(s.Ones[^Math.Min(s.Rank, rank)..])).ToArray(),
            };
        }
        for (int i = 0; i < Frame.Length; i++)
            if (Frame[i] > 1)
            {
                var smaller = (int[])Frame.Clone();
                smaller[i]--;
                yield return this with { Frame = smaller };
            }
    }
}

internal static class ChainCases
{
    private static readonly UnaryOp[] Unary = Enum.GetValues<UnaryOp>();
    private static readonly BinaryOp[] Binary = Enum.GetValues<BinaryOp>();

    public static Arbitrary<ChainCase> Arbitrary() => Arb.From(Cases(), c => c.Shrink());

    private static Gen<ChainCase> Cases() =>
        from rank in Gen.Choose(1, 3)
        from frame in Gen.ArrayOf(Gen.Choose(1, 3), rank)
        from count in Gen.Choose(1, 3)
        from inputs in Gen.ArrayOf(InputShapes(rank), count)
        from depth in Gen.Sized(size => Gen.Constant(Math.Min(4, 1 + size / 25)))
        from tree in Tree(depth, count)
        from seed in Gen.Choose(0, int.MaxValue)
        select new ChainCase(frame, inputs, tree, seed);

    private static Gen<InputShape> InputShapes(int frameRank) =>
        from rank in Gen.Choose(1, frameRank)
        from ones in Gen.ArrayOf(Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true))), rank)
        select new InputShape(ones);

    private static Gen<Expr> Tree(int depth, int inputs)
    {
        var leaf = Gen.Choose(0, inputs - 1).Select(i => (Expr)new InputExpr(i));
        if (depth == 0) return leaf;
        var sub = Tree(depth - 1, inputs);
        var unary = from op in Gen.Elements(Unary) from axis in Gen.Choose(0, 2) from arg in sub select (Expr)new UnaryExpr(op, axis, arg);
        var binary = from op in Gen.Elements(Binary) from l in sub from r in sub select (Expr)new BinaryExpr(op, l, r);
        return Gen.Frequency((1, leaf), (3, unary), (3, binary));
    }
}
