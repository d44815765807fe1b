using System.Numerics;
using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Diagnostics;

/// <summary>
/// How strongly a loss on the LAST step reaches back to every earlier step: ||dL/ds_t|| for every state tensor s (h, and
/// c for LSTM-like cells) at every step t. In an Elman RNN this norm shrinks or grows geometrically with T - t, by roughly
/// the norm of the step Jacobian dh_t/dh_{t-1} = diag(tanh') W_hh per step (Bengio, Simard and Frasconi 1994; Pascanu,
/// Mikolov and Bengio 2013); the LSTM's additive cell update c_t = f * c_{t-1} + i * g gives dc_t/dc_{t-1} = diag(f),
/// a path that stays near 1 while the forget gate is open (the constant error carousel of Hochreiter and Schmidhuber 1997).
/// </summary>
/// <param name="Cell">The cell's kind.</param>
/// <param name="StateNames">Names of the measured state tensors (h first).</param>
/// <param name="Norms">Norms[s][t] = ||dL/d state_s at step t||, averaged over the batch (Frobenius norm of [B, H] / sqrt(B)); index 0 is the first step.</param>
/// <param name="Loss">The value of the loss.</param>
public sealed record GradientFlowResult(string Cell, IReadOnlyList<string> StateNames, double[][] Norms, double Loss)
{
    /// <summary>||dL/dh_t|| over t.</summary>
    public double[] HiddenNorms => Norms[0];

    /// <summary>Steps from the end (T - 1 - t) at which ||dL/dh_t|| first falls below <paramref name="fraction"/> of its value at the last step, or null.</summary>
    public int? StepsUntilBelow(double fraction)
    {
        var h = HiddenNorms;
        double last = h[^1];
        for (int t = h.Length - 1; t >= 0; t--)
            if (h[t] < fraction * last) return h.Length - 1 - t;
        return null;
    }

    /// <summary>Average change of log10 ||dL/dh_t|| per step going BACK from the loss (negative: vanishing; positive: exploding).</summary>
    public double Log10SlopePerStep
    {
        get
        {
            var h = HiddenNorms;
            if (h.Length < 2 || !(h[0] > 0) || !(h[^1] > 0)) return double.NaN;
            return (Math.Log10(h[0]) - Math.Log10(h[^1])) / (h.Length - 1);
        }
    }
}

/// <summary>Gradient-flow measurements for ANY recurrent cell, built-in or custom: it only uses the cell's Next step.</summary>
public static class GradientFlow
{
    /// <summary>
    /// Unrolls <paramref name="cell"/> over <paramref name="inputs"/> ([T, B, I]) from the zero state, takes the loss
    /// L = sum(v * h_T) with a fixed random direction v (so no particular target biases the picture), runs backward and
    /// returns ||dL/ds_t|| for every state tensor and step.
    /// </summary>
    public static GradientFlowResult Measure<T>(RecurrentCell<T> cell, Tensor<T> inputs, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var states = UnrollRetaining(cell, inputs);
        var last = states[^1];
        var v = Tensor.RandomNormal<T>(rng, [.. last[0].Shape]);
        var loss = (last[0] * v).Sum();
        double lossValue = loss.ItemAsDouble();
        loss.Backward();
        int batch = inputs.Shape[1];
        var norms = new double[cell.StateNames.Count][];
        for (int s = 0; s < norms.Length; s++)
            norms[s] = states.Select(st => Norm(st[s].Grad) / Math.Sqrt(batch)).ToArray();
        return new GradientFlowResult(cell.Kind, cell.StateNames, norms, lossValue);
    }

    /// <summary>
    /// Spectral norms ||dh_T/dh_t||_2 of the Jacobians from every step's hidden state to the last one, for a single
    /// sequence ([T, 1, I]). The Jacobians come from H backward passes (one per component of h_T, graph retained), and
    /// each norm from a power iteration on J^T J in double.
    /// </summary>
    public static double[] JacobianNorms<T>(RecurrentCell<T> cell, Tensor<T> inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (inputs.Rank != 3 || inputs.Shape[1] != 1)
            throw new ArgumentException($"GradientFlow.JacobianNorms: inputs must be one sequence of shape [T, 1, {cell.InputSize}], got {inputs.ShapeText}.");
        var states = UnrollRetaining(cell, inputs);
        int steps = states.Count, h = cell.HiddenSize;
        var jacobians = new double[steps][,];
        for (int t = 0; t < steps; t++) jacobians[t] = new double[h, h];
        var hT = states[^1][0];
        for (int j = 0; j < h; j++)
        {
            foreach (var st in states) st[0].ZeroGrad();
            var seed = Tensor.Zeros<T>(1, h);
            seed[0, j] = T.One;
            hT.Backward(seed, retainGraph: j < h - 1);
            for (int t = 0; t < steps; t++)
            {
                var g = states[t][0].Grad;
                if (g is null) continue;
                for (int k = 0; k < h; k++) jacobians[t][j, k] = double.CreateChecked(g[0, k]);
            }
        }
        return jacobians.Select(SpectralNorm).ToArray();
    }

    /// <summary>The per-step states of an unroll from zeros, each asked to retain its gradient.</summary>
    private static List<RecurrentState<T>> UnrollRetaining<T>(RecurrentCell<T> cell, Tensor<T> inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (inputs.Rank != 3 || inputs.Shape[2] != cell.InputSize)
            throw new ArgumentException($"GradientFlow: inputs must have shape [T, B, {cell.InputSize}] for {cell}, got {inputs.ShapeText}.");
        int steps = inputs.Shape[0];
        if (steps < 1) throw new ArgumentException($"GradientFlow: the sequence must have at least one step, got shape {inputs.ShapeText}.");
        Tape.Current.Reset();
        // The zero initial state requires a gradient so that every later state is recorded even when the
        // parameters do not require one.
        var state = cell.InitialState(inputs.Shape[1]).Map(t => t.RequireGrad());
        var states = new List<RecurrentState<T>>(steps);
        for (int t = 0; t < steps; t++)
        {
            state = cell.Next(inputs.Select(0, t), state).RetainGrad();
            states.Add(state);
        }
        return states;
    }

    private static double Norm<T>(Tensor<T>? g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g is null) return 0;
        double s = 0;
        foreach (var v in g.AsSpan()) { double d = double.CreateChecked(v); s += d * d; }
        return Math.Sqrt(s);
    }

    /// <summary>Largest singular value by power iteration on J^T J (converges fast for the small H used in diagnostics).</summary>
    internal static double SpectralNorm(double[,] j)
    {
        int n = j.GetLength(1), m = j.GetLength(0);
        var x = Enumerable.Range(0, n).Select(i => 1.0 + 0.01 * i).ToArray();
        double sigma = 0;
        for (int iter = 0; iter < 200; iter++)
        {
            var y = new double[m];
            for (int r = 0; r < m; r++) for (int c = 0; c < n; c++) y[r] += j[r, c] * x[c];
            var z = new double[n];
            for (int c = 0; c < n; c++) for (int r = 0; r < m; r++) z[c] += j[r, c] * y[r];
            double norm = Math.Sqrt(z.Sum(v => v * v));
            if (norm == 0) return 0;
            double next = Math.Sqrt(norm / Math.Sqrt(x.Sum(v => v * v)));
            for (int c = 0; c < n; c++) x[c] = z[c] / norm;
            if (Math.Abs(next - sigma) <= 1e-12 * next) return next;
            sigma = next;
        }
        return sigma;
    }
}
