namespace AutoDiffLstm.Tests.Training;

/// <summary>
/// Plain double, element-by-element transcriptions of the PyTorch update equations, written independently of the
/// library's SIMD code, used as the expected values of the optimizer tests. Each call applies one step in place.
/// </summary>
internal static class ReferenceOptimizers
{
    public static void Sgd(double[] p, double[] g, double[] b, int t, double lr, double mu, bool nesterov, double wd)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double d = g[i] + wd * p[i];
            if (mu != 0)
            {
                b[i] = t == 1 ? d : mu * b[i] + d;
                d = nesterov ? d + mu * b[i] : b[i];
            }
            p[i] -= lr * d;
        }
    }

    /// <summary>Adam (coupled L2 <paramref name="wd"/>) or AdamW (decoupled, when <paramref name="decoupled"/>).</summary>
    public static void Adam(double[] p, double[] g, double[] m, double[] v, int t, double lr, double b1, double b2, double eps, double wd, bool decoupled)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double d = g[i];
            if (decoupled) p[i] -= lr * wd * p[i];
            else d += wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * d;
            v[i] = b2 * v[i] + (1 - b2) * d * d;
            double mHat = m[i] / (1 - Math.Pow(b1, t));
            double vHat = v[i] / (1 - Math.Pow(b2, t));
            p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
        }
    }

    public static void RmsProp(double[] p, double[] g, double[] v, double[] gAvg, double[] b, double lr, double alpha, double eps, double wd, double mu, bool centered)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double d = g[i] + wd * p[i];
            v[i] = alpha * v[i] + (1 - alpha) * d * d;
            double vt = v[i];
            if (centered)
            {
                gAvg[i] = alpha * gAvg[i] + (1 - alpha) * d;
                vt -= gAvg[i] * gAvg[i];
            }
            if (mu > 0)
            {
                b[i] = mu * b[i] + d / (Math.Sqrt(vt) + eps);
                p[i] -= lr * b[i];
            }
            else p[i] -= lr * d / (Math.Sqrt(vt) + eps);
        }
    }
}
