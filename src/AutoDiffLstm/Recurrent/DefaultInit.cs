using System.Numerics;

namespace AutoDiffLstm.Recurrent;

/// <summary>
/// The one place where built-in cells draw their default parameter values, so that a different initialiser can be
/// swapped in here for every cell at once. The default is PyTorch's for nn.RNN, nn.LSTM and nn.GRU: every weight and
/// bias independently uniform in [-1/sqrt(H), 1/sqrt(H)].
/// </summary>
internal static class DefaultInit
{
    /// <summary>Parameters with the given names and shapes, drawn in order from <paramref name="rng"/>; they require gradients.</summary>
    public static CellParameters<T> Parameters<T>(Rng rng, int hiddenSize, IEnumerable<(string Name, int[] Shape)> layout)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double bound = 1.0 / Math.Sqrt(hiddenSize);
        return new CellParameters<T>(layout.Select(p =>
            new KeyValuePair<string, Tensor<T>>(p.Name, Tensor.RandomUniform<T>(rng, p.Shape, -bound, bound).RequireGrad())));
    }

    /// <summary>Overwrites elements [start, start + length) of a vector parameter (before any recorded use).</summary>
    public static void Fill<T>(Tensor<T> vector, int start, int length, double value) where T : unmanaged, IFloatingPointIeee754<T> =>
        vector.AsWritableSpan().Slice(start, length).Fill(T.CreateChecked(value));

    /// <summary>Overwrites a square matrix parameter with the identity (IRNN's recurrent weights).</summary>
    public static void Identity<T>(Tensor<T> square) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = square.Shape[0];
        var data = square.AsWritableSpan();
        data.Clear();
        for (int i = 0; i < n; i++) data[i * n + i] = T.One;
    }
}
