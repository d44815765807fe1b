using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>
/// The cells are generic: in float they compute the same function as in double. Float finite differences are too
/// noisy to check gradients (errors around 1e-3), so float gradients are compared with the double gradients of the
/// same layer instead; the documented tolerances are 1e-5 relative for values and 1e-4 relative (of the largest
/// gradient entry) for gradients over 30 steps.
/// </summary>
public class FloatPrecisionTests
{
    public static TheoryData<string> Kinds() => new() { "lstm", "gru", "rnn_tanh", "lstm_fgr" };

    private static RecurrentCell<TF> Make<TF>(string kind, int input, Rng rng) where TF : unmanaged, System.Numerics.IFloatingPointIeee754<TF> => kind switch
    {
        "lstm" => new LstmCell<TF>(input, 4, rng),
        "gru" => new GruCell<TF>(input, 4, rng),
        "rnn_tanh" => new ElmanCell<TF>(input, 4, rng),
        _ => new LstmVariantCell<TF>(LstmVariant.FullGateRecurrent, input, 4, rng),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void FloatLayerMatchesTheDoubleLayerInValuesAndGradients(string kind)
    {
        // Same seed, same draws: the float parameters are the double ones rounded.
        var d = new RecurrentLayer<double>((i, r) => Make<double>(kind, i, r), 3, new Rng(1), numLayers: 2, bidirectional: true);
        var f = new RecurrentLayer<float>((i, r) => Make<float>(kind, i, r), 3, new Rng(1), numLayers: 2, bidirectional: true);
        var xd = Tensor.RandomNormal<double>(new Rng(2), [30, 2, 3]);
        var xf = Tensor.FromArray(xd.ToArray().Select(v => (float)v).ToArray(), 30, 2, 3);
        var wd = Tensor.RandomNormal<double>(new Rng(3), [30, 2, 8]);
        var wf = Tensor.FromArray(wd.ToArray().Select(v => (float)v).ToArray(), 30, 2, 8);

        Tape.Current.Reset();
        var outD = d.Forward(xd, new SequenceOptions<double> { Lengths = [30, 17] }).Output;
        (wd * outD).Sum().Backward();
        var outF = f.Forward(xf, new SequenceOptions<float> { Lengths = [30, 17] }).Output;
        (wf * outF).Sum().Backward();

        var (vd, vf) = (outD.ToArray(), outF.ToArray());
        for (int i = 0; i < vd.Length; i++) Assert.True(Math.Abs(vd[i] - vf[i]) <= 1e-5 * (1 + Math.Abs(vd[i])), $"output[{i}]: double {vd[i]}, float {vf[i]}");
        foreach (var (pd, pf) in d.NamedParameters().Zip(f.NamedParameters()))
        {
            var (gd, gf) = (pd.Value.Grad!.ToArray(), pf.Value.Grad!.ToArray());
            double largest = gd.Max(Math.Abs);
            for (int i = 0; i < gd.Length; i++)
                Assert.True(Math.Abs(gd[i] - gf[i]) <= 1e-4 * (1 + largest), $"{pd.Key}[{i}]: double {gd[i]}, float {gf[i]}");
        }
    }
}
