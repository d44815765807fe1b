using AutoDiffLstm.Recurrent;

namespace AutoDiffLstm.Tests.Recurrent;

/// <summary>Default initialisation, IRNN's identity start and the forget-gate bias.</summary>
public class InitialisationTests
{
    public static TheoryData<string> Kinds() => CellZoo.Names();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void DefaultParametersAreTrainableAndWithinPyTorchsBound(string kindName)
    {
        var cell = CellZoo.Get(kindName).Make(3, 4, new Rng(1));
        double bound = 1 / Math.Sqrt(4);
        foreach (var (name, p) in cell.Parameters)
        {
            Assert.True(p.RequiresGrad, name);
            // Their own initialisations, tested below: IRNN's identity, IndRNN's u in [0, 1], JANET's chrono forget bias, the LRU's ring.
            if ((kindName, name) is ("irnn", "weight_hh") or ("indrnn", "weight_hh") or ("janet", "bias_ih") || kindName == "lru") continue;
            Assert.All(p.ToArray(), v => Assert.InRange(v, -bound, bound));
        }
        // Different seeds give different weights, the same seed the same.
        var again = CellZoo.Get(kindName).Make(3, 4, new Rng(1)).Parameters[0].Value.ToArray();
        var other = CellZoo.Get(kindName).Make(3, 4, new Rng(2)).Parameters[0].Value.ToArray();
        Assert.Equal(cell.Parameters[0].Value.ToArray(), again);
        Assert.NotEqual(again, other);
    }

    [Fact]
    public void LruStartsOnItsRingWithNormalisedInputs()
    {
        const double rMin = 0.9, rMax = 0.999, maxPhase = Math.PI / 10;
        var p = new LruCell<double>(2, 300, new Rng(5), rMin, rMax, maxPhase).Parameters;
        var (nu, theta, gamma) = (p["weight_nu"].ToArray(), p["weight_theta"].ToArray(), p["weight_gamma"].ToArray());
        var modulus = nu.Select(v => Math.Exp(-Math.Exp(v))).ToArray();
        Assert.All(modulus, r => Assert.InRange(r, rMin - 1e-12, rMax + 1e-12));
        Assert.All(theta, v => Assert.InRange(Math.Exp(v), 0, maxPhase));
        for (int j = 0; j < modulus.Length; j++) Assert.Equal(Math.Sqrt(1 - modulus[j] * modulus[j]), Math.Exp(gamma[j]), 1e-12);
        // Uniform in area on the ring: half the units have |lambda|^2 below the middle of [r_min^2, r_max^2].
        int below = modulus.Count(r => r * r < (rMin * rMin + rMax * rMax) / 2);
        Assert.InRange(below, 110, 190);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LruCell<double>(2, 3, new Rng(1), rMin: 0.5, rMax: 0.4));
    }

    [Fact]
    public void JanetStartsWithChronoForgetBiasesAndZeroCandidateBiases()
    {
        const int hidden = 200, maxSteps = 50;
        var bias = new JanetCell<double>(2, hidden, new Rng(4), chronoMaxSteps: maxSteps).Parameters["bias_ih"].ToArray();
        var forget = bias[..hidden];
        // b_f = log U[1, T_max - 1]: in [0, log 49], spread over the range (not all at one end).
        Assert.All(forget, v => Assert.InRange(v, 0, Math.Log(maxSteps - 1)));
        Assert.True(forget.Max() - forget.Min() > 0.5 * Math.Log(maxSteps - 1), $"chrono biases span only [{forget.Min()}, {forget.Max()}]");
        Assert.All(bias[hidden..], v => Assert.Equal(0.0, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JanetCell<double>(2, 3, new Rng(1), chronoMaxSteps: 2));
    }

    [Fact]
    public void IndRnnStartsWithRecurrentWeightsInTheUnitInterval()
    {
        var u = new IndRnnCell<double>(2, 100, new Rng(5)).Parameters["weight_hh"].ToArray();
        Assert.All(u, v => Assert.InRange(v, 0, 1));
        Assert.True(u.Max() > 0.9 && u.Min() < 0.1, "u should cover [0, 1]");
    }

    [Fact]
    public void IrnnStartsWithIdentityRecurrenceAndCarriesItsStateWithoutInput()
    {
        var cell = ElmanCell<double>.Irnn(2, 3, new Rng(3));
        var w = cell.Parameters["weight_hh"];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(i == j ? 1.0 : 0.0, w[i, j]);
        Assert.All(cell.Parameters["bias_ih"].ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(cell.Parameters["bias_hh"].ToArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(ElmanActivation.Relu, cell.Activation);

        var h0 = Tensor.FromArray([0.5, 0.0, 2.0, 1.5, 0.25, 3.0], 2, 3);
        var result = Unroll.Run(cell, Tensor.Zeros<double>(50, 2, 2), new UnrollOptions<double> { InitialState = new RecurrentState<double>(["h"], h0) });
        Assert.Equal(h0.ToArray(), result.FinalState["h"].ToArray());
    }

    [Fact]
    public void LstmForgetBiasSetsTheForgetSliceOfBiasIhAndZeroesItInBiasHh()
    {
        const int h = 3;
        var plain = new LstmCell<double>(2, h, new Rng(4));
        var biased = new LstmCell<double>(2, h, new Rng(4), forgetBias: 1.0);
        var (bih, bhh) = (biased.Parameters["bias_ih"].ToArray(), biased.Parameters["bias_hh"].ToArray());
        var (pih, phh) = (plain.Parameters["bias_ih"].ToArray(), plain.Parameters["bias_hh"].ToArray());
        for (int k = 0; k < 4 * h; k++)
        {
            bool forget = k >= h && k < 2 * h;
            Assert.Equal(forget ? 1.0 : pih[k], bih[k]);
            Assert.Equal(forget ? 0.0 : phh[k], bhh[k]);
        }
        // Effective forget pre-activation bias is exactly 1: with zero weights, f = sigmoid(1).
        var zeroWeights = biased.WithParameters(biased.Parameters.Select(p => new KeyValuePair<string, Tensor<double>>(p.Key,
            p.Key.StartsWith("weight", StringComparison.Ordinal) ? Tensor.Zeros<double>(p.Value.Shape.ToArray()) : p.Value)));
        var state = new RecurrentState<double>(["h", "c"], Tensor.Zeros<double>(1, h), Tensor.Ones<double>(1, h));
        var next = zeroWeights.Next(Tensor.Zeros<double>(1, 2), state);
        // c' = f * 1 + i * g; recover f from the known i and g.
        for (int j = 0; j < h; j++)
        {
            double i = 1 / (1 + Math.Exp(-(bih[j] + bhh[j]))), g = Math.Tanh(bih[2 * h + j] + bhh[2 * h + j]);
            Assert.Equal(1 / (1 + Math.Exp(-1.0)), next["c"][0, j] - i * g, 12);
        }
    }

    [Fact]
    public void VariantForgetBiasFindsTheForgetSliceOrRefuses()
    {
        var nig = new LstmVariantCell<double>(LstmVariant.NoInputGate, 2, 3, new Rng(5), forgetBias: 2.0); // layout f, g, o
        Assert.All(nig.Parameters["bias_ih"].ToArray().Take(3), v => Assert.Equal(2.0, v));
        Assert.All(nig.Parameters["bias_hh"].ToArray().Take(3), v => Assert.Equal(0.0, v));
        var e = Assert.Throws<ArgumentException>(() => new LstmVariantCell<double>(LstmVariant.CoupledGates, 2, 3, new Rng(5), forgetBias: 1.0));
        Assert.Contains("CIFG", e.Message);
        Assert.Throws<ArgumentException>(() => new LstmVariantCell<double>(LstmVariant.NoForgetGate, 2, 3, new Rng(5), forgetBias: 1.0));
    }

    [Fact]
    public void ContradictoryVariantsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new LstmVariantCell<double>(LstmVariant.CoupledGates with { InputGate = false }, 2, 3, new Rng(6)));
        Assert.Contains("coupling", e.Message);
    }
}
