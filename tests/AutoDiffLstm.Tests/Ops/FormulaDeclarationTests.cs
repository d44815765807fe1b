namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// A formula declares which values its chain rules read; a compiled sequence keeps only those for backward and the
/// kernels load only those. A declaration that leaves out a value the rule reads would give wrong gradients silently,
/// so each chain rule is evaluated with every undeclared value replaced by NaN and must not change.
/// </summary>
public class FormulaDeclarationTests
{
    private static readonly (double A, double B)[] Points = [(0.7, -1.3), (-2.1, 0.4), (1.5, 1.5), (3.0, 0.25)];

    private static void CheckBinary<F>() where F : struct, IBinaryFormula
    {
        foreach (var (a, b) in Points)
        {
            var (va, vb, g) = (new ScalarValue<double>(a), new ScalarValue<double>(b), new ScalarValue<double>(0.9));
            var y = F.Apply(va, vb);
            var nan = new ScalarValue<double>(double.NaN);
            var (da, db, dy) = (F.ReadsOperands ? va : nan, F.ReadsOperands ? vb : nan, F.ReadsOutput ? y : nan);
            Assert.Equal(F.ChainA(g, va, vb, y).V, F.ChainA(g, da, db, dy).V);
            Assert.Equal(F.ChainB(g, va, vb, y).V, F.ChainB(g, da, db, dy).V);
        }
    }

    private static void CheckUnary<F>() where F : struct, IUnaryFormula
    {
        foreach (var (a, _) in Points)
        {
            double x = Math.Abs(a) + 0.1; // inside every unary primitive's domain (Log, Sqrt, Pow)
            var y = new double[1];
            F.Forward<double>([x], y, 2.0, 0.0);
            var (vx, vy, g, nan) = (new ScalarValue<double>(x), new ScalarValue<double>(y[0]), new ScalarValue<double>(0.9), new ScalarValue<double>(double.NaN));
            Assert.Equal(F.Chain(g, vx, vy, 2.0, 0.0).V, F.Chain(g, F.ReadsInput ? vx : nan, F.ReadsOutput ? vy : nan, 2.0, 0.0).V);
        }
    }

    [Fact]
    public void BinaryFormulasReadOnlyWhatTheyDeclare()
    {
        CheckBinary<AddFormula>();
        CheckBinary<SubtractFormula>();
        CheckBinary<MultiplyFormula>();
        CheckBinary<DivideFormula>();
        CheckBinary<MaximumFormula>();
    }

    [Fact]
    public void UnaryFormulasReadOnlyWhatTheyDeclare()
    {
        CheckUnary<SigmoidFormula>();
        CheckUnary<TanhFormula>();
        CheckUnary<ExpFormula>();
        CheckUnary<LogFormula>();
        CheckUnary<SqrtFormula>();
        CheckUnary<SquareFormula>();
        CheckUnary<ReluFormula>();
        CheckUnary<NegateFormula>();
        CheckUnary<SinFormula>();
        CheckUnary<CosFormula>();
        CheckUnary<PowFormula>();
        CheckUnary<ClampFormula>();
    }
}
