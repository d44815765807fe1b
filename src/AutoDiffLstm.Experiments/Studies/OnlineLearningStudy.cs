using System.Diagnostics;
using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Recurrent;
using AutoDiffLstm.Training.Online;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>The cost of one way of computing a recurrent gradient, measured per step.</summary>
/// <param name="Method">"rtrl", "uoro" or "bptt".</param>
/// <param name="Cell">Registry name.</param>
/// <param name="Hidden">H.</param>
/// <param name="Parameters">P, the cell's scalar parameters.</param>
/// <param name="MillisecondsPerStep">Wall-clock per time step, gradient included (median of the repeats).</param>
/// <param name="CarriedNumbers">Numbers kept from one step to the next for the gradient: the sensitivity (RTRL P·|s|, UORO P + |s|) or, for BPTT, every step's state (T·|s|, growing with T).</param>
/// <param name="AllocatedBytesPerStep">Bytes allocated per step (GC counter of the thread), all transient for RTRL and UORO, all alive until backward for BPTT's forward pass.</param>
public sealed record OnlineCostRow(string Method, string Cell, int Hidden, int Parameters, double MillisecondsPerStep, long CarriedNumbers, double AllocatedBytesPerStep);

/// <summary>How far UORO's rank-one estimate is from the exact gradient over a sequence.</summary>
/// <param name="Cell">Registry name.</param>
/// <param name="Steps">Sequence length T (loss at every step).</param>
/// <param name="Draws">Independent UORO runs (random signs) averaged over.</param>
/// <param name="RelativeVariance">E||g_UORO - g||² / ||g||², g the exact (RTRL = BPTT) gradient.</param>
/// <param name="RelativeBias">||mean g_UORO - g|| / ||g||: goes to 0 like 1/sqrt(draws) for an unbiased estimator.</param>
/// <param name="CosineOfOneDraw">Mean cosine between one draw and g.</param>
public sealed record UoroVarianceRow(string Cell, int Steps, int Draws, double RelativeVariance, double RelativeBias, double CosineOfOneDraw);

/// <summary>
/// Online gradients against backpropagation through time: exactness of RTRL, the variance of UORO, and the time and
/// memory each takes per step. Every problem has a loss ℓ_t = Σ v_t h_t + ½ Σ h_t² at every step on standard normal
/// inputs, in double, batch 1.
/// </summary>
public static class OnlineLearningStudy
{
    /// <summary>A sequence with its per-step loss directions.</summary>
    private sealed record Problem(RecurrentCell<double> Cell, Tensor<double> Inputs, Tensor<double>[] Directions)
    {
        public Tensor<double> Loss(int t, Tensor<double> h) => (h * Directions[t]).Sum() + h.Square().Sum() * 0.5;
    }

    private static Problem Make(string cell, int hidden, int steps, ulong seed)
    {
        var rng = new Rng(seed + 2);
        return new Problem(CellCatalog.Cell<double>(cell, 1, hidden, new Rng(seed), null), Tensor.RandomNormal<double>(new Rng(seed + 1), [steps, 1, 1]),
            Enumerable.Range(0, steps).Select(_ => Tensor.RandomNormal<double>(rng, [1, hidden])).ToArray());
    }

    /// <summary>The largest |RTRL - BPTT| over all parameter scalars, relative to the largest |BPTT| component, for one cell.</summary>
    public static double RtrlAgainstBptt(string cell, int hidden, int steps, ulong seed)
    {
        var p = Make(cell, hidden, steps, seed);
        var bptt = Bptt(p);
        var rtrl = Online(p, new Rtrl<double>(p.Cell));
        double scale = Math.Max(bptt.Max(Math.Abs), double.Epsilon);
        return bptt.Select((v, k) => Math.Abs(rtrl[k] - v)).Max() / scale;
    }

    /// <summary>Time and memory per step of RTRL, UORO and BPTT for each cell and hidden size (<paramref name="repeats"/> runs each, median time).</summary>
    public static IReadOnlyList<OnlineCostRow> Costs(IEnumerable<string> cells, IEnumerable<int> hiddens, int steps, int repeats, ulong seed)
    {
        var rows = new List<OnlineCostRow>();
        foreach (string cell in cells)
            foreach (int hidden in hiddens)
            {
                var p = Make(cell, hidden, steps, seed);
                int parameters = p.Cell.Parameters.ElementCount;
                long state = Enumerable.Range(0, p.Cell.StateNames.Count).Sum(p.Cell.StateSize);
                Rtrl<double>? rtrl = null;
                Uoro<double>? uoro = null;
                rows.Add(Measure("rtrl", () => Online(p, rtrl = new Rtrl<double>(p.Cell)), () => rtrl!.SensitivityElements));
                rows.Add(Measure("uoro", () => Online(p, uoro = new Uoro<double>(p.Cell, new Rng(seed + 5))), () => uoro!.SensitivityElements));
                rows.Add(Measure("bptt", () => Bptt(p), () => steps * state));

                OnlineCostRow Measure(string method, Action run, Func<long> carried)
                {
                    run(); // warm-up: JIT and buffer pools
                    var times = new double[repeats];
                    long bytes = 0;
                    for (int r = 0; r < repeats; r++)
                    {
                        long before = GC.GetAllocatedBytesForCurrentThread();
                        var clock = Stopwatch.StartNew();
                        run();
                        times[r] = clock.Elapsed.TotalMilliseconds / steps;
                        bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                    }
                    Array.Sort(times);
                    return new OnlineCostRow(method, cell, hidden, parameters, times[repeats / 2], carried(), (double)bytes / steps);
                }
            }
        return rows;
    }

    /// <summary>UORO's spread around the exact gradient over <paramref name="draws"/> independent runs, for each sequence length.</summary>
    public static IReadOnlyList<UoroVarianceRow> UoroVariance(IEnumerable<string> cells, int hidden, IEnumerable<int> lengths, int draws, ulong seed)
    {
        var rows = new List<UoroVarianceRow>();
        foreach (string cell in cells)
            foreach (int steps in lengths)
            {
                var p = Make(cell, hidden, steps, seed);
                var exact = Online(p, new Rtrl<double>(p.Cell));
                double norm2 = exact.Sum(v => v * v);
                var mean = new double[exact.Length];
                double squaredError = 0, cosine = 0;
                for (int n = 0; n < draws; n++)
                {
                    var g = Online(p, new Uoro<double>(p.Cell, new Rng(seed + 1000 + (ulong)n)));
                    double err = 0, dot = 0, gg = 0;
                    for (int k = 0; k < g.Length; k++)
                    {
                        mean[k] += g[k] / draws;
                        err += (g[k] - exact[k]) * (g[k] - exact[k]);
                        dot += g[k] * exact[k];
                        gg += g[k] * g[k];
                    }
                    squaredError += err / draws;
                    cosine += dot / Math.Sqrt(gg * norm2) / draws;
                }
                double bias = Math.Sqrt(mean.Select((m, k) => (m - exact[k]) * (m - exact[k])).Sum() / norm2);
                rows.Add(new UoroVarianceRow(cell, steps, draws, squaredError / norm2, bias, cosine));
            }
        return rows;
    }

    private static double[] Online(Problem p, OnlineGradient<double> method)
    {
        Zero(p.Cell);
        for (int t = 0; t < p.Inputs.Shape[0]; t++)
        {
            int step = t;
            method.Step(p.Inputs.Select(0, t), h => p.Loss(step, h));
        }
        return Take(p.Cell);
    }

    private static double[] Bptt(Problem p)
    {
        Zero(p.Cell);
        Tape.Current.Reset();
        var state = p.Cell.InitialState(1);
        Tensor<double>? total = null;
        for (int t = 0; t < p.Inputs.Shape[0]; t++)
        {
            state = p.Cell.Next(p.Inputs.Select(0, t), state);
            var l = p.Loss(t, p.Cell.Output(state));
            total = total is null ? l : total + l;
        }
        total!.Backward();
        return Take(p.Cell);
    }

    private static void Zero(RecurrentCell<double> cell)
    {
        foreach (var q in cell.NamedParameters()) q.Value.ZeroGrad();
    }

    private static double[] Take(RecurrentCell<double> cell)
    {
        var g = cell.NamedParameters().SelectMany(q => q.Value.Grad?.ToArray() ?? new double[q.Value.Size]).ToArray();
        Zero(cell);
        return g;
    }
}
