using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AutoDiffLstm.IO;

/// <summary>
/// Moves tensor elements to and from streams as little-endian bytes (the safetensors byte order). On little-endian hosts
/// (all that .NET commonly runs on) the element array is written and read in place; big-endian hosts swap each element.
/// </summary>
internal static class TensorBytes
{
    public static void Write(Stream stream, TensorBase tensor)
    {
        switch (tensor)
        {
            case Tensor<float> f:
                if (BitConverter.IsLittleEndian) stream.Write(MemoryMarshal.AsBytes(f.Data.AsSpan()));
                else WriteSwapped(stream, MemoryMarshal.Cast<float, uint>(f.Data.AsSpan()));
                break;
            case Tensor<double> d:
                if (BitConverter.IsLittleEndian) stream.Write(MemoryMarshal.AsBytes(d.Data.AsSpan()));
                else WriteSwapped(stream, MemoryMarshal.Cast<double, ulong>(d.Data.AsSpan()));
                break;
            default:
                throw new NotSupportedException($"Safetensors: cannot write {tensor.GetType().Name}; only Tensor<float> and Tensor<double>.");
        }
    }

    /// <summary>Reads <c>values.Length</c> little-endian elements from the stream's current position.</summary>
    public static void Read(Stream stream, float[] values)
    {
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        if (!BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<float, uint>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }
    }

    /// <inheritdoc cref="Read(Stream, float[])"/>
    public static void Read(Stream stream, double[] values)
    {
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        if (!BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<double, ulong>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }
    }

    private static void WriteSwapped(Stream stream, ReadOnlySpan<uint> bits)
    {
        var chunk = new uint[Math.Min(bits.Length, 8192)];
        for (int i = 0; i < bits.Length; i += chunk.Length)
        {
            var part = bits.Slice(i, Math.Min(chunk.Length, bits.Length - i));
            BinaryPrimitives.ReverseEndianness(part, chunk);
            stream.Write(MemoryMarshal.AsBytes(chunk.AsSpan(0, part.Length)));
        }
    }

    private static void WriteSwapped(Stream stream, ReadOnlySpan<ulong> bits)
    {
        var chunk = new ulong[Math.Min(bits.Length, 4096)];
        for (int i = 0; i < bits.Length; i += chunk.Length)
        {
            var part = bits.Slice(i, Math.Min(chunk.Length, bits.Length - i));
            BinaryPrimitives.ReverseEndianness(part, chunk);
            stream.Write(MemoryMarshal.AsBytes(chunk.AsSpan(0, part.Length)));
        }
    }
}
