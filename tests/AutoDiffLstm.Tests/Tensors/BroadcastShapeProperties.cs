using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AutoDiffLstm.Tests.Tensors;

/// <summary>Random incompatible shape pairs: every broadcasting operation rejects them and names both shapes.</summary>
public class BroadcastShapeProperties
{
    /// <summary>Two shapes with at least one aligned dimension pair that differs and contains no 1.</summary>
    internal sealed record Incompatible(int[] A, int[] B)
    {
        public override string ToString() => $"{Format(A)} vs {Format(B)}";
    }

    internal static string Format(int[] s) => "[" + string.Join(", ", s) + "]";

    private static Gen<Incompatible> Pairs() =>
        from ra in Gen.Choose(1, 4)
        from rb in Gen.Choose(1, 4)
        from a in Gen.ArrayOf(Gen.Choose(0, 5), ra)
        from b in Gen.ArrayOf(Gen.Choose(0, 5), rb)
        from back in Gen.Choose(1, Math.Min(ra, rb))
        from p in Gen.Choose(2, 6)
        from q in Gen.Choose(2, 6).Where(q => q != p)
        select Clash(a, b, back, p, q);

    private static Incompatible Clash(int[] a, int[] b, int back, int p, int q)
    {
        a = (int[])a.Clone();
        b = (int[])b.Clone();
        a[^back] = p;
        b[^back] = q;
        return new Incompatible(a, b);
    }

    private static IEnumerable<Incompatible> Shrink(Incompatible c)
    {
        // Drop a leading dimension or lower a dimension while the pair stays incompatible.
        foreach (var (a, b) in new[] { (c.A[1..], c.B), (c.A, c.B[1..]) })
            if (a.Length > 0 && b.Length > 0 && !Compatible(a, b)) yield return new Incompatible(a, b);
        for (int i = 0; i < c.A.Length; i++)
            if (c.A[i] > 0)
            {
                var a = (int[])c.A.Clone();
                a[i]--;
                if (!Compatible(a, c.B)) yield return new Incompatible(a, c.B);
            }
    }

    internal static bool Compatible(int[] a, int[] b)
    {
        for (int i = 1; i <= Math.Min(a.Length, b.Length); i++)
            if (a[^i] != b[^i] && a[^i] != 1 && b[^i] != 1) return false;
        return true;
    }

    [Property(MaxTest = 200)]
    public Property IncompatibleShapesAlwaysThrowNamingBothShapes() =>
        Prop.ForAll(Arb.From(Pairs(), Shrink), c =>
        {
            var a = Tensor.Zeros<float>(c.A);
            var b = Tensor.Zeros<float>(c.B);
            foreach (var (name, op) in new (string, Func<Tensor<float>, Tensor<float>, Tensor<float>>)[]
                     { ("Add", (x, y) => x + y), ("Subtract", (x, y) => x - y), ("Multiply", (x, y) => x * y), ("Divide", (x, y) => x / y) })
            {
                foreach (var (x, y) in new[] { (a, b), (b, a) })
                {
                    var error = Assert.Throws<ArgumentException>(() => op(x, y));
                    Assert.Contains(name, error.Message);
                    Assert.Contains(x.ShapeText, error.Message);
                    Assert.Contains(y.ShapeText, error.Message);
                }
            }
        });

    [Fact]
    public void ShapeTextIsTheEngineFormat()
    {
        Assert.Equal("[2, 3]", Tensor.Zeros<double>(2, 3).ShapeText);
        Assert.Equal("[]", Tensor.Scalar(1.0).ShapeText);
        Assert.Equal("[0]", Tensor.Zeros<double>(0).ShapeText);
    }
}
