using System.Text;

namespace AutoDiffLstm.Tests.IO;

/// <summary>Builds safetensors files byte by byte from the format description, independently of the library's writer.</summary>
internal static class SafetensorsBytes
{
    /// <summary>8-byte little-endian header length, the header text (optionally space-padded to a multiple of 8), the payload.</summary>
    public static byte[] Build(string headerJson, byte[] payload, bool padTo8 = true)
    {
        var header = new List<byte>(Encoding.UTF8.GetBytes(headerJson));
        if (padTo8) while (header.Count % 8 != 0) header.Add((byte)' ');
        return [.. U64LittleEndian((ulong)header.Count), .. header, .. payload];
    }

    /// <summary>The bytes of <paramref name="value"/>, least significant first, computed by shifting (not BitConverter).</summary>
    public static byte[] U64LittleEndian(ulong value)
    {
        var bytes = new byte[8];
        for (int i = 0; i < 8; i++) bytes[i] = (byte)(value >> (8 * i));
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A valid one-tensor file: "w", F32, shape [2], values 1.0 and -2.5 (IEEE 754 bits 0x3F800000, 0xC0200000).</summary>
    public static byte[] OneF32Vector() => Build(
        """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
        [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0]);

    /// <summary>A payload of <paramref name="n"/> zero bytes.</summary>
    public static byte[] Zeros(int n) => new byte[n];
}
