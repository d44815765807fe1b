using AutoDiffLstm.Experiments.Training;
using AutoDiffLstm.IO;
using AutoDiffLstm.Tests.IO;

namespace AutoDiffLstm.Tests.Experiments;

/// <summary>
/// Damaged or foreign checkpoints: every one is refused with a message naming the file and the problem, and a trainer
/// that a restore was attempted on keeps every parameter, optimizer moment and step count it had.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A float checkpoint after 6 of 12 steps.</summary>
    private string SavedCheckpoint(string name, TrainingOptions? options = null)
    {
        var trainer = new Trainer<float>((options ?? TinyRuns.Options()) with { Steps = 6 });
        trainer.Run();
        string path = temp.File(name);
        trainer.SaveCheckpoint(path);
        return path;
    }

    /// <summary>A trainer that has taken 3 steps of its own, so that its state differs from any checkpoint's.</summary>
    private static Trainer<float> TrainedElsewhere(TrainingOptions? options = null)
    {
        var trainer = new Trainer<float>((options ?? TinyRuns.Options()) with { Steps = 3, Seed = 99 });
        trainer.Run();
        return trainer;
    }

    /// <summary>
    /// Rewrites a checkpoint through <paramref name="edit"/> of its tensors and metadata. The stored checksums are
    /// recomputed for the edited tensors (unless <paramref name="keepChecksums"/>), as a writer with a bug would have
    /// written them: the later checks (shapes, step counts, history) are reached and tested, not just the checksum.
    /// </summary>
    private string Tampered(string source, string name, Action<Dictionary<string, TensorBase>, Dictionary<string, string>> edit, bool keepChecksums = false)
    {
        var contents = Safetensors.Load(source);
        var tensors = contents.Names.ToDictionary(n => n, n => contents.Tensors[n]);
        var metadata = contents.Metadata.ToDictionary();
        edit(tensors, metadata);
        if (!keepChecksums && metadata.ContainsKey("sha256"))
            metadata["sha256"] = System.Text.Json.JsonSerializer.Serialize(tensors.ToDictionary(t => t.Key, t => Checkpoint.Sha256(t.Value)));
        string path = temp.File(name);
        Safetensors.Save(path, tensors, metadata);
        return path;
    }

    /// <summary>Restoring <paramref name="path"/> into a trained trainer fails with <typeparamref name="TException"/> and changes nothing.</summary>
    private static TException RestoreFailsAndChangesNothing<TException>(string path, Trainer<float>? trainer = null) where TException : Exception
    {
        trainer ??= TrainedElsewhere();
        var before = TinyRuns.State(trainer);
        var e = Assert.ThrowsAny<TException>(() => Checkpoint.Restore(path, trainer, completedSteps: 6));
        TinyRuns.AssertIdentical(before, TinyRuns.State(trainer));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void ACheckpointRoundTripsIntoAnotherTrainer()
    {
        string path = SavedCheckpoint("good.safetensors");
        var (options, completed, dtype) = Checkpoint.ReadHeader(path);
        Assert.Equal(TinyRuns.Options() with { Steps = 6 }, options);
        Assert.Equal(6, completed);
        Assert.Equal("float", dtype);

        var trainer = TrainedElsewhere();
        Checkpoint.Restore(path, trainer, 6);
        var fromFile = Trainer<float>.Resume(path);
        TinyRuns.AssertIdentical(TinyRuns.State(fromFile), TinyRuns.State(trainer));
        Assert.Equal(6, fromFile.Optimizer.StepsTaken);
    }

    [Fact]
    public void ATruncatedFileIsRefusedAndNothingIsLoaded()
    {
        string path = SavedCheckpoint("truncated.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);

        var e = Assert.Throws<SafetensorsException>(() => Trainer<float>.Resume(path));
        Assert.Contains(path, e.Message);
        RestoreFailsAndChangesNothing<SafetensorsException>(path);
    }

    [Fact]
    public void AFileThatIsNotSafetensorsIsRefused()
    {
        string path = temp.File("garbage.safetensors");
        File.WriteAllText(path, "this is not a checkpoint");
        var e = Assert.Throws<SafetensorsException>(() => Checkpoint.ReadHeader(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AMissingFileIsRefused()
    {
        string path = temp.File("missing.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => Trainer<float>.Resume(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void SafetensorsWithoutTheCheckpointFormatAreRefused()
    {
        string source = SavedCheckpoint("source.safetensors");
        string foreign = Tampered(source, "foreign.safetensors", (_, m) => m["format"] = "someone-elses-format");
        var e = Assert.Throws<InvalidDataException>(() => Trainer<float>.Resume(foreign));
        Assert.Contains("not an AutoDiffLstm checkpoint", e.Message);
        Assert.Contains(foreign, e.Message);

        string noMetadata = Tampered(source, "plain.safetensors", (_, m) => m.Clear());
        Assert.Contains("not an AutoDiffLstm checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(noMetadata)).Message);

        string badOptions = Tampered(source, "bad-options.safetensors", (_, m) => m["options"] = "{ not json");
        Assert.Contains("stored options cannot be read", Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(badOptions)).Message);

        string invalidOptions = Tampered(source, "invalid-options.safetensors", (_, m) => m["options"] = m["options"].Replace("\"hidden\": 6", "\"hidden\": -6"));
        var invalid = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(invalidOptions));
        Assert.Contains("--hidden must be positive, got -6", invalid.Message);

        string tooMany = Tampered(source, "too-many.safetensors", (_, m) => m["completed_steps"] = "60");
        Assert.Contains("exceeds the run's 6 steps", Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(tooMany)).Message);
    }

    [Fact]
    public void AFloatCheckpointIsNotResumedInDouble()
    {
        string path = SavedCheckpoint("float.safetensors");
        var e = Assert.Throws<InvalidDataException>(() => Trainer<double>.Resume(path));
        Assert.Contains("trained in float, not double", e.Message);
        Assert.False(Checkpoint.IsDouble(path));
    }

    [Fact]
    public void TensorsOfTheWrongElementTypeAreRefusedAndNothingIsLoaded()
    {
        // Metadata claiming double over float tensors: the resume builds a double trainer and the types do not match.
        string path = Tampered(SavedCheckpoint("source.safetensors"), "claims-double.safetensors", (_, m) => m["dtype"] = "double");
        var e = Assert.Throws<SafetensorsException>(() => Trainer<double>.Resume(path));
        Assert.Contains("F32", e.Message);
        Assert.Contains(path, e.Message);

        // One tensor stored as double in a float checkpoint.
        string mixed = Tampered(SavedCheckpoint("source2.safetensors"), "mixed.safetensors", (t, _) =>
            t["readout.bias"] = Tensor.FromArray(((Tensor<float>)t["readout.bias"]).ToArray().Select(v => (double)v).ToArray(), 1));
        Assert.Contains("readout.bias", RestoreFailsAndChangesNothing<SafetensorsException>(mixed).Message);
    }

    [Fact]
    public void AModelOfAnotherSizeIsRefusedAndNothingIsLoaded()
    {
        string path = SavedCheckpoint("h6.safetensors");
        var e = RestoreFailsAndChangesNothing<SafetensorsException>(path, TrainedElsewhere(TinyRuns.Options() with { Hidden = 7 }));
        Assert.Contains("weight_hh_l0", e.Message);
        Assert.Contains("[24, 6]", e.Message);

        // Options in the metadata that disagree with the tensors stored under them.
        string lying = Tampered(path, "lying.safetensors", (_, m) => m["options"] = m["options"].Replace("\"hidden\": 6", "\"hidden\": 8"));
        var lie = Assert.Throws<SafetensorsException>(() => Trainer<float>.Resume(lying));
        Assert.Contains("[32, 8]", lie.Message);
    }

    [Fact]
    public void MissingOrExtraTensorsAreRefusedAndNothingIsLoaded()
    {
        string source = SavedCheckpoint("source.safetensors");
        string missing = Tampered(source, "missing-state.safetensors", (t, _) => t.Remove("optimizer.state1.0"));
        Assert.Contains("optimizer.state1.0", RestoreFailsAndChangesNothing<SafetensorsException>(missing).Message);

        string extra = Tampered(source, "extra.safetensors", (t, _) => t["surprise"] = Tensor.Zeros<float>(2));
        Assert.Contains("surprise", RestoreFailsAndChangesNothing<SafetensorsException>(extra).Message);
    }

    [Fact]
    public void CorruptStepCountsAreRefusedAndNothingIsLoaded()
    {
        string path = Tampered(SavedCheckpoint("source.safetensors"), "counts.safetensors", (t, _) =>
        {
            var counts = ((Tensor<float>)t["optimizer.step_counts"]).Clone();
            counts.AsWritableSpan()[0] = -1;
            t["optimizer.step_counts"] = counts;
        });
        var e = RestoreFailsAndChangesNothing<InvalidDataException>(path);
        Assert.Contains("step counts", e.Message);
        Assert.Throws<InvalidDataException>(() => Trainer<float>.Resume(path));
    }

    [Fact]
    public void TheHistoryIsStoredAndACorruptOneIsRefused()
    {
        string source = SavedCheckpoint("source.safetensors");
        var contents = Safetensors.Load(source);
        var steps = contents.Get<double>("history.steps");
        Assert.Equal([6, 5], steps.Shape);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], Enumerable.Range(0, 6).Select(i => steps[i, 0]));
        var evaluations = contents.Get<double>("history.evaluations");
        Assert.Equal([5.0, 6], Enumerable.Range(0, 2).Select(i => evaluations[i, 0]));
        Assert.True(double.IsNaN(evaluations[0, 2]), "the adding problem has no accuracy");

        string shortened = Tampered(source, "short-history.safetensors", (t, _) =>
            t["history.steps"] = Tensor.FromArray(((Tensor<double>)t["history.steps"]).ToArray()[..25], 5, 5));
        Assert.Contains("not the steps 1 to 6", RestoreFailsAndChangesNothing<InvalidDataException>(shortened).Message);

        string renumbered = Tampered(source, "renumbered.safetensors", (t, _) =>
        {
            var h = ((Tensor<double>)t["history.steps"]).Clone();
            h.AsWritableSpan()[5] = 7;
            t["history.steps"] = h;
        });
        RestoreFailsAndChangesNothing<InvalidDataException>(renumbered);

        string missing = Tampered(source, "no-history.safetensors", (t, _) => t.Remove("history.evaluations"));
        Assert.Contains("history.evaluations", RestoreFailsAndChangesNothing<SafetensorsException>(missing).Message);
    }

    /// <summary>The byte range of <paramref name="tensor"/>'s data in a safetensors file, read from its header.</summary>
    private static (int Begin, int End) DataRange(string path, string tensor)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var offsets = header.RootElement.GetProperty(tensor).GetProperty("data_offsets");
        int start = 8 + headerLength;
        return (start + offsets[0].GetInt32(), start + offsets[1].GetInt32());
    }

    [Theory]
    [InlineData("weight_hh_l0")]
    [InlineData("optimizer.state0.1")]
    [InlineData("history.steps")]
    public void RandomBytesInsideTensorDataAreRefusedNamingTheTensor(string tensor)
    {
        string path = SavedCheckpoint("damaged.safetensors");
        var (begin, end) = DataRange(path, tensor);
        var bytes = File.ReadAllBytes(path);
        // Bytes that are still valid floats: only the checksum can tell.
        new Random(7).NextBytes(bytes.AsSpan(begin + (end - begin) / 2, 4));
        File.WriteAllBytes(path, bytes);

        var header = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(path));
        Assert.Contains($"tensor '{tensor}' does not match its stored SHA-256", header.Message);
        Assert.Contains(path, header.Message);
        Assert.Contains(tensor, RestoreFailsAndChangesNothing<InvalidDataException>(path).Message);
    }

    [Fact]
    public void AFormatTwoCheckpointWithoutChecksumsIsRefused()
    {
        string path = Tampered(SavedCheckpoint("source.safetensors"), "no-sums.safetensors", (_, m) => m.Remove("sha256"));
        Assert.Contains("lacks a readable 'sha256' entry", Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(path)).Message);
    }

    /// <summary>Checkpoints written before checksums (format 1, PascalCase options) still resume, unverified: documented in <see cref="Checkpoint"/>.</summary>
    [Fact]
    public void AFormatOneCheckpointStillResumes()
    {
        string source = SavedCheckpoint("source.safetensors");
        string old = Tampered(source, "format1.safetensors", (_, m) =>
        {
            m["format"] = "autodifflstm-checkpoint-1";
            m.Remove("sha256");
            m["options"] = System.Text.Json.JsonSerializer.Serialize(TinyRuns.Options() with { Steps = 6 });
        });
        Assert.Contains("\"SequenceLength\"", Safetensors.Load(old).Metadata["options"]);
        Assert.Equal(TinyRuns.Options() with { Steps = 6 }, Checkpoint.ReadHeader(old).Options);
        TinyRuns.AssertIdentical(TinyRuns.State(Trainer<float>.Resume(source)), TinyRuns.State(Trainer<float>.Resume(old)));
    }

    [Fact]
    public void SavingReplacesTheFileAtomicallyAndLeavesNoTemporaryFiles()
    {
        string path = SavedCheckpoint("ck.safetensors");
        var trainer = Trainer<float>.Resume(path, 12);
        trainer.Run();
        trainer.SaveCheckpoint(path);
        Assert.Equal(12, Checkpoint.ReadHeader(path).CompletedSteps);
        Assert.Equal(["ck.safetensors", "ck.safetensors.json"], temp.FileNames());
    }
}
