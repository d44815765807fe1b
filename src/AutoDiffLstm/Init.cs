using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// Weight initialisers. Each creates a new tensor (a leaf without gradient; call <c>RequireGrad()</c> on parameters) from
/// a seeded <see cref="Rng"/>, so an experiment is reproducible from its seed. Matrices are laid out [out, in] (rows
/// produce outputs, as in <c>Linear</c>: y = x W^T + b), so fan_out = shape[0] and fan_in = shape[1].
/// </summary>
public static class Init
{
    /// <summary>Independent samples from U(-bound, bound).</summary>
    public static Tensor<T> Uniform<T>(Rng rng, int[] shape, double bound) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rng);
        ValidateShape("Init.Uniform", shape);
        if (!double.IsFinite(bound) || bound < 0)
            throw new ArgumentOutOfRangeException(nameof(bound), $"Init.Uniform: bound must be finite and >= 0, got {bound}.");
        return Tensor.RandomUniform<T>(rng, shape, -bound, bound);
    }

    /// <summary>
    /// PyTorch's default for every weight and bias of <c>nn.RNN</c>, <c>nn.LSTM</c> and <c>nn.GRU</c> (and their cells):
    /// U(-k, k) with k = 1 / sqrt(hidden_size). Use it to start from the same distribution as a PyTorch model.
    /// </summary>
    public static Tensor<T> PyTorchRecurrent<T>(Rng rng, int[] shape, int hiddenSize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"Init.PyTorchRecurrent: hiddenSize must be positive, got {hiddenSize}.");
        return Uniform<T>(rng, shape, 1.0 / Math.Sqrt(hiddenSize));
    }

    /// <summary>
    /// Xavier/Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)), which gives variance
    /// gain^2 * 2 / (fan_in + fan_out) (Glorot &amp; Bengio 2010, "Understanding the difficulty of training deep feedforward
    /// neural networks", eq. 16, "normalized initialization"). For a [out, in] matrix.
    /// </summary>
    public static Tensor<T> XavierUniform<T>(Rng rng, int[] shape, double gain = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (fanIn, fanOut) = Fans("Init.XavierUniform", shape, gain);
        return Uniform<T>(rng, shape, gain * Math.Sqrt(6.0 / (fanIn + fanOut)));
    }

    /// <summary>
    /// Xavier/Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)), the same variance as
    /// <see cref="XavierUniform{T}"/> (Glorot &amp; Bengio 2010). For a [out, in] matrix.
    /// </summary>
    public static Tensor<T> XavierNormal<T>(Rng rng, int[] shape, double gain = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rng);
        var (fanIn, fanOut) = Fans("Init.XavierNormal", shape, gain);
        return Tensor.RandomNormal<T>(rng, shape, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)));
    }

    /// <summary>
    /// A random (semi-)orthogonal [rows, cols] matrix times <paramref name="gain"/>: W^T W = gain^2 I when rows &gt;= cols
    /// (orthonormal columns), W W^T = gain^2 I when rows &lt; cols (orthonormal rows). Orthogonal recurrent weights
    /// preserve the norm of back-propagated gradients through the linear part of each step, which delays vanishing and
    /// exploding gradients (Saxe, McClelland &amp; Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in
    /// deep linear neural networks"). Computed as the Q factor of the QR decomposition of a Gaussian matrix, in double by
    /// Householder reflections, with the signs of Q's columns chosen so that R's diagonal is positive: without that
    /// correction Q is not uniformly (Haar) distributed (Mezzadri 2007).
    /// </summary>
    public static Tensor<T> Orthogonal<T>(Rng rng, int[] shape, double gain = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rng);
        RequireMatrix("Init.Orthogonal", shape);
        RequireFiniteGain("Init.Orthogonal", gain);
        int rows = shape[0], cols = shape[1];
        var result = Tensor<T>.ZerosLike([rows, cols]);
        if (rows == 0 || cols == 0) return result;

        // Factor the tall orientation (m >= n): Q then has n orthonormal columns of length m.
        int m = Math.Max(rows, cols), n = Math.Min(rows, cols);
        var gaussian = new double[m * n];
        for (int i = 0; i < gaussian.Length; i++) gaussian[i] = rng.NextNormal();
        var (q, _) = HouseholderQr.Factor(gaussian, m, n);

        // q is column-major m x n; element (i, j) is q[j * m + i]. W = Q if rows >= cols, else W = Q^T.
        var w = result.Data;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++)
            {
                T value = T.CreateChecked(gain * q[j * m + i]);
                if (rows >= cols) w[i * cols + j] = value;
                else w[j * cols + i] = value;
            }
        return result;
    }

    /// <summary>
    /// scale * I for a square [n, n] matrix: the IRNN initialisation of recurrent weights (with zero biases and ReLU),
    /// under which the hidden state is copied forward and gradients pass back unchanged at the start of training
    /// (Le, Jaitly &amp; Hinton 2015, "A Simple Way to Initialize Recurrent Networks of Rectified Linear Units"; the paper also
    /// uses a scaled identity, e.g. 0.01 I, for some tasks).
    /// </summary>
    public static Tensor<T> Identity<T>(int[] shape, double scale = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireMatrix("Init.Identity", shape);
        if (shape[0] != shape[1])
            throw new ArgumentException($"Init.Identity: shape {ShapeMath.Format(shape)} is not square; the identity needs [n, n].", nameof(shape));
        if (!double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), $"Init.Identity: scale must be finite, got {scale}.");
        int size = shape[0];
        var result = Tensor<T>.ZerosLike([size, size]);
        T diagonal = T.CreateChecked(scale);
        for (int i = 0; i < size; i++) result.Data[i * size + i] = diagonal;
        return result;
    }

    private static (double FanIn, double FanOut) Fans(string op, int[] shape, double gain)
    {
        RequireMatrix(op, shape);
        RequireFiniteGain(op, gain);
        if (shape[0] == 0 && shape[1] == 0)
            throw new ArgumentException($"{op}: shape {ShapeMath.Format(shape)} has fan_in + fan_out = 0; the scale sqrt(.../(fan_in + fan_out)) is undefined.", nameof(shape));
        return (shape[1], shape[0]);
    }

    private static void RequireMatrix(string op, int[] shape)
    {
        ValidateShape(op, shape);
        if (shape.Length != 2)
            throw new ArgumentException($"{op}: needs a matrix shape [out, in], got {ShapeMath.Format(shape)} (rank {shape.Length}).", nameof(shape));
    }

    private static void RequireFiniteGain(string op, double gain)
    {
        if (!double.IsFinite(gain) || gain < 0)
            throw new ArgumentOutOfRangeException(nameof(gain), $"{op}: gain must be finite and >= 0, got {gain}.");
    }

    private static void ValidateShape(string op, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ShapeMath.Validate(op, shape);
    }
}
