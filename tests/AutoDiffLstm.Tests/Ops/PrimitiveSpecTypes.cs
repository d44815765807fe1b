using System.Globalization;
using System.Numerics;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// The values an input may take: [Lo, Hi] minus a margin around each point in <see cref="Avoid"/> (kinks, poles, clamp
/// bounds). <see cref="Simple"/> is the valid value a shrinking failure moves towards.
/// </summary>
internal sealed record ValueRange(double Lo, double Hi, double Simple, double[]? Avoid = null, double Margin = 0, double GridOffset = 0)
{
    public bool Contains(double v)
    {
        if (!(v >= Lo && v <= Hi)) return false;
        if (GridOffset != 0 && Math.Abs(Math.Round(v - GridOffset, 4) - (v - GridOffset)) > 1e-9) return false; // off its moved grid
        if (Avoid is null) return true;
        foreach (double a in Avoid)
            if (Math.Abs(v - a) <= Margin) return false;
        return true;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Lo}, {Hi}]{(Avoid is null ? "" : $" avoiding {Margin} around {string.Join(", ", Avoid)}")}");
}

/// <summary>
/// A value regime of a primitive: one range per input role (role i is the range of inputs the layout tags with i) and the
/// finite-difference step that suits it. Large magnitudes (logits of 1000) need a larger step: with h = 1e-6 the loss,
/// of size ~1e3 * n, carries rounding noise of about 1e-16 * 1e4 / 2e-6 = 5e-7 per difference quotient, which is the
/// size of the tolerance; at h = 1e-3 the noise is 1000 times smaller and the O(h^2) truncation error stays below 1e-6
/// because softmax-like functions are nearly flat at that scale.
/// </summary>
internal sealed record Regime(string Name, ValueRange[] Roles, double Step = 1e-6)
{
    public ValueRange For(int role) => Roles[Math.Min(role, Roles.Length - 1)];
}

/// <summary>
/// The shapes and arguments a primitive is called with, derived deterministically from a draw (free dimensions and
/// discrete knobs): input shapes, the value role of each input, integer arguments (axes, offsets, flags) and how many
/// integer ids (embedding ids, class targets, mask bits) the call needs and their range; with
/// <see cref="RepeatFirstId"/> the last id is forced equal to the first (a guaranteed repeat).
/// </summary>
internal sealed record Layout(int[][] Shapes, int[] Roles, int[] Args, int IdCount = 0, int IdRange = 1, bool RepeatFirstId = false)
{
    public static Layout Of(int[][] shapes, params int[] args) => new(shapes, new int[shapes.Length], args);
}

/// <summary>
/// What FsCheck generates and shrinks: the value regime, the free dimensions (each 1..5), the knobs, the input values
/// (one array per input) and the integer ids. Every field shrinks towards a simpler case independently; the layout is
/// recomputed from dimensions and knobs, so a shrunk draw is always a valid call.
/// </summary>
internal sealed record Draw(int Regime, int[] Dims, int[] Knobs, double[][] Values, int[] Ids);

/// <summary>One realized test case: a normalized draw and the layout it gives (shown in failure reports).</summary>
internal sealed record PrimitiveCase(Draw Draw, Layout Layout)
{
    public int[] Args => Layout.Args;
    public int[] Ids => Draw.Ids;
    public double[][] Values => Draw.Values;

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var parts = Layout.Shapes.Select((s, i) =>
            $"x{i}{ShapeText(s)} = {{{string.Join(", ", Values[i].Take(16).Select(v => v.ToString("G6", c)))}{(Values[i].Length > 16 ? ", ..." : "")}}}");
        return $"inputs {string.Join("; ", parts)}; args ({string.Join(", ", Layout.Args)})" +
               (Ids.Length == 0 ? "" : $"; ids ({string.Join(", ", Ids)})") + $"; regime {Draw.Regime}";
    }

    public string Shapes => string.Join(" ", Layout.Shapes.Select(ShapeText));

    public static string ShapeText(int[] s) => "[" + string.Join(", ", s) + "]";
}

/// <summary>
/// One primitive (or a public operation composed of primitives) as the property tests see it: its name, the backward
/// rules it must put on the tape, its arity and shape family for the reader, the value regimes, how many free
/// dimensions and which knobs a draw has, how a draw becomes a layout, and the call itself, written once for float and
/// double (the catalogue class is generic in the element type).
/// </summary>
/// <param name="Name">The rule's <c>Name</c> for a primitive; the public method's name for a composed operation.</param>
/// <param name="Rules">The backward rules the call records (checked against the tape).</param>
/// <param name="Dims">Number of free dimensions in a draw (each 1..5).</param>
/// <param name="Knobs">Exclusive upper bound of each discrete knob (each 0..max-1; 0 is the simplest choice).</param>
internal sealed record PrimitiveSpec<T>(
    string Name,
    string[] Rules,
    string Arity,
    string ShapeFamily,
    Regime[] Regimes,
    int Dims,
    int[] Knobs,
    Func<int[], int[], Layout> Layout,
    Func<PrimitiveCase, Tensor<T>[], Tensor<T>> Apply)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string ToString() => Name;
}
