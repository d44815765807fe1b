using System.Numerics;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Tests.IO;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    public static TheoryData<int[]> Shapes => new() { Array.Empty<int>(), new[] { 0 }, new[] { 5 }, new[] { 2, 3 }, new[] { 2, 0, 4 }, new[] { 3, 1, 4 }, new[] { 1, 2, 1, 3 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FloatRoundTripIsBitExact(int[] shape) => RoundTrip<float>(shape, seed: 1);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DoubleRoundTripIsBitExact(int[] shape) => RoundTrip<double>(shape, seed: 2);

    private void RoundTrip<T>(int[] shape, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var original = Tensor.RandomNormal<T>(new Rng(seed), shape);
        string path = dir.File("t.safetensors");
        Safetensors.Save(path, [new("t", original)]);

        var loaded = Safetensors.Load(path).Get<T>("t");
        Assert.Equal(shape, loaded.Shape);
        Assert.Equal(original.ToArray(), loaded.ToArray());

        var destination = Tensor.Zeros<T>(shape);
        Safetensors.LoadInto(path, [new("t", destination)]);
        Assert.Equal(original.ToArray(), destination.ToArray());
    }

    [Fact]
    public void SpecialValuesKeepTheirExactBits()
    {
        float[] f = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, BitConverter.Int32BitsToSingle(0x7FC12345)];
        double[] d = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue, BitConverter.Int64BitsToDouble(0x7FF8_0000_DEAD_BEEF)];
        string path = dir.File("special.safetensors");
        Safetensors.Save(path, [new("f", Tensor.FromArray(f)), new("d", Tensor.FromArray(d))]);

        var contents = Safetensors.Load(path);
        Assert.Equal(f.Select(BitConverter.SingleToInt32Bits), contents.Get<float>("f").ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(d.Select(BitConverter.DoubleToInt64Bits), contents.Get<double>("d").ToArray().Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void ManyTensorsOfMixedPrecisionRoundTripInOrder()
    {
        var rng = new Rng(3);
        var tensors = new List<KeyValuePair<string, TensorBase>>();
        for (int i = 0; i < 12; i++)
        {
            int[] shape = [1 + rng.NextInt(4), rng.NextInt(5)];
            tensors.Add(new($"layer{i}.{(i % 2 == 0 ? "weight" : "bias")}", i % 3 == 0 ? Tensor.RandomNormal<double>(rng, shape) : Tensor.RandomNormal<float>(rng, shape)));
        }
        string path = dir.File("many.safetensors");
        Safetensors.Save(path, tensors);

        var contents = Safetensors.Load(path);
        Assert.Equal(tensors.Select(t => t.Key), contents.Names);
        foreach (var (name, tensor) in tensors)
        {
            var loaded = contents.Tensors[name];
            Assert.Equal(tensor.GetType(), loaded.GetType());
            Assert.Equal(tensor.Shape, loaded.Shape);
            if (tensor is Tensor<float> f) Assert.Equal(f.ToArray(), ((Tensor<float>)loaded).ToArray());
            else Assert.Equal(((Tensor<double>)tensor).ToArray(), ((Tensor<double>)loaded).ToArray());
        }
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["epoch"] = "17",
            ["quote\"and\\backslash"] = "line1\nline2\ttab",
            ["ünïcode"] = "日本語 ✓",
            ["empty"] = "",
        };
        string path = dir.File("meta.safetensors");
        Safetensors.Save(path, [new("x", Tensor.Scalar(1f))], metadata);

        var loaded = Safetensors.Load(path).Metadata;
        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), loaded.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void NamesWithPunctuationAndUnicodeRoundTrip()
    {
        string[] names = ["rnn.weight_hh_l0", "a/b:c", "quote\"name", "ünï", "<tag>&"];
        string path = dir.File("names.safetensors");
        Safetensors.Save(path, names.Select((n, i) => new KeyValuePair<string, TensorBase>(n, Tensor.Scalar((double)i))));

        var contents = Safetensors.Load(path);
        for (int i = 0; i < names.Length; i++) Assert.Equal(i, contents.Get<double>(names[i]).Item());
    }

    [Fact]
    public void SaveOverwritesAnExistingFileAndLeavesNoTemporaryFiles()
    {
        string path = dir.File("model.safetensors");
        Safetensors.Save(path, [new("w", Tensor.Full(1f, 4))]);
        Safetensors.Save(path, [new("w", Tensor.Full(2f, 4))]);

        Assert.Equal([2f, 2f, 2f, 2f], Safetensors.Load(path).Get<float>("w").ToArray());
        Assert.Equal(["model.safetensors"], dir.FileNames());
    }

    [Fact]
    public void LoadIntoWithAllowExtraLoadsTheRequestedSubset()
    {
        string path = dir.File("subset.safetensors");
        Safetensors.Save(path, [new("a", Tensor.Full(3.0, 2)), new("b", Tensor.Full(4f, 1, 2))]);
        var b = Tensor.Zeros<float>(1, 2);

        Safetensors.LoadInto(path, [new("b", b)], allowExtra: true);

        Assert.Equal([4f, 4f], b.ToArray());
    }

    [Fact]
    public void LoadIntoKeepsTheParametersGradientAndIdentity()
    {
        string path = dir.File("param.safetensors");
        Safetensors.Save(path, [new("w", Tensor.FromArray([5.0, 6.0]))]);
        var w = Tensor.FromArray([1.0, 2.0]).RequireGrad();
        (w * w).Sum().Backward();
        var gradBefore = w.Grad!.ToArray();

        Safetensors.LoadInto(path, [new("w", w)]);

        Assert.Equal([5.0, 6.0], w.ToArray());
        Assert.True(w.RequiresGrad);
        Assert.Equal(gradBefore, w.Grad!.ToArray());
    }
}
