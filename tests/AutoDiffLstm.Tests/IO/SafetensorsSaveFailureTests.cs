using AutoDiffLstm.IO;

namespace AutoDiffLstm.Tests.IO;

/// <summary>A failing save leaves an existing file exactly as it was and leaves no temporary file behind.</summary>
public sealed class SafetensorsSaveFailureTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    public static TheoryData<string, string> InvalidNames => new()
    {
        { "", "a tensor name is empty" },
        { "__metadata__", "'__metadata__' is reserved" },
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void InvalidNameFailsAndKeepsTheExistingFile(string name, string expected)
    {
        var (path, original) = ExistingFile();

        var ex = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, [new("ok", Tensor.Scalar(1f)), new(name, Tensor.Scalar(2f))]));

        Assert.Contains(expected, ex.Message);
        Assert.Contains(path, ex.Message);
        AssertUnchanged(path, original);
    }

    [Fact]
    public void NameWithAnUnpairedSurrogateFailsAndKeepsTheExistingFile()
    {
        // Built here rather than passed as theory data: the test runner's serialisation would replace the lone surrogate.
        string name = "bad" + (char)0xD800 + "name";
        var (path, original) = ExistingFile();

        var ex = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, [new(name, Tensor.Scalar(2f))]));

        Assert.Contains("unpaired surrogate", ex.Message);
        AssertUnchanged(path, original);
    }

    [Fact]
    public void DuplicateNamesFailAndKeepTheExistingFile()
    {
        var (path, original) = ExistingFile();

        var ex = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, [new("w", Tensor.Scalar(1f)), new("b", Tensor.Scalar(1f)), new("w", Tensor.Scalar(2.0))]));

        Assert.Contains("the tensor name 'w' appears more than once", ex.Message);
        AssertUnchanged(path, original);
    }

    [Fact]
    public void NullTensorOrMetadataValueFailsAndKeepsTheExistingFile()
    {
        var (path, original) = ExistingFile();

        var nullTensor = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, [new("w", null!)]));
        Assert.Contains("tensor 'w' is null", nullTensor.Message);
        var nullValue = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, [new("w", Tensor.Scalar(1f))], new Dictionary<string, string> { ["k"] = null! }));
        Assert.Contains("metadata entry 'k' is null", nullValue.Message);
        AssertUnchanged(path, original);
    }

    [Fact]
    public void WriterFailingHalfwayKeepsTheExistingFileAndDeletesTheTemporary()
    {
        // Simulates a crash in the middle of writing the data (disk full, I/O error): part of the new contents is already
        // in the temporary file when the exception escapes.
        var (path, original) = ExistingFile();

        var ex = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            stream.Flush();
            throw new IOException("simulated disk failure");
        }));

        Assert.Equal("simulated disk failure", ex.Message);
        AssertUnchanged(path, original);
    }

    [Fact]
    public void WriterFailingWhenThereIsNoFileYetCreatesNothing()
    {
        string path = dir.File("new.safetensors");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            throw new InvalidOperationException("boom");
        }));
        Assert.Empty(dir.FileNames());
    }

    [Fact]
    public void SaveIntoAMissingDirectoryFailsWithoutCreatingIt()
    {
        string path = Path.Combine(dir.Path, "no-such-dir", "m.safetensors");
        Assert.Throws<DirectoryNotFoundException>(() => Safetensors.Save(path, [new("w", Tensor.Scalar(1f))]));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    private (string Path, byte[] Bytes) ExistingFile()
    {
        string path = dir.File("model.safetensors");
        Safetensors.Save(path, [new("w", Tensor.FromArray([1f, 2f, 3f]))], new Dictionary<string, string> { ["v"] = "1" });
        return (path, File.ReadAllBytes(path));
    }

    private void AssertUnchanged(string path, byte[] original)
    {
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], dir.FileNames()); // no temporary files left
        Assert.Equal([1f, 2f, 3f], Safetensors.Load(path).Get<float>("w").ToArray());
    }
}
