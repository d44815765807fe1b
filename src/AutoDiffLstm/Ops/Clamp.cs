using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace AutoDiffLstm;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise min(max(x, min), max).</summary>
    public Tensor<T> Clamp(double min, double max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min ({min}) must be <= max ({max}).");
        var y = Uninitialized(Dims);
        TP.Max(Data, T.CreateChecked(min), y.Data);
        TP.Min(y.Data, T.CreateChecked(max), y.Data);
        Tape.Record(ClampRule<T>.Instance, y, this, d0: min, d1: max);
        return y;
    }
}

internal sealed class ClampRule<T> : BackwardRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ClampRule<T> Instance = new();
    public override string Name => "Clamp";

    // dx += dy where min <= x <= max (the gradient passes where the clamp is the identity, as in PyTorch)
    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var x = e.InA<T>();
        T lo = T.CreateChecked(e.D0), hi = T.CreateChecked(e.D1);
        var g = x.GradBuffer();
        var xs = x.AsSpan();
        for (int i = 0; i < g.Length; i++)
            if (xs[i] >= lo && xs[i] <= hi) g[i] += dy[i];
    }
}
