using System.Buffers.Binary;
using System.Text;

namespace AutoDiffLstm.Benchmarks.TorchSharpSetup;

/// <summary>One entry of .gnu.version_r: the library <paramref name="File"/> must define version <paramref name="Name"/>.</summary>
/// <param name="AuxOffset">File offset of the Elf64_Vernaux record, so that it can be rewritten in place.</param>
/// <param name="NameOffset">File offset of the version string in the dynamic string table.</param>
internal sealed record VersionNeed(string File, string Name, uint Hash, ushort Flags, ushort Index, long AuxOffset, long NameOffset);

/// <summary>
/// Just enough of a 64-bit little-endian ELF shared object to read and patch symbol-version records: the versions a
/// library requires of its dependencies (SHT_GNU_verneed) and the versions it defines itself (SHT_GNU_verdef).
/// Layouts follow the System V gABI and the LSB "Symbol Versioning" chapter. The whole file is held in memory
/// (a few MB for the shim); <see cref="Save"/> writes it back atomically.
/// </summary>
internal sealed class ElfImage
{
    private const uint ShtDynamic = 6;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    private readonly byte[] bytes;
    private readonly string path;
    private readonly List<(uint Type, long Offset, long Size, uint Link, uint Info)> sections = [];

    private ElfImage(string path, byte[] bytes)
    {
        this.path = path;
        this.bytes = bytes;
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException($"ELF: {path} is not an ELF file (bad magic).");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException($"ELF: {path} is class {bytes[4]}, data {bytes[5]}; expected a 64-bit little-endian object (class 2, data 1).");
        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3a), shnum = U16(0x3c);
        if (shoff == 0 || shnum == 0 || shentsize < 64 || shoff + (long)shnum * shentsize > bytes.Length)
            throw new InvalidDataException($"ELF: {path} has no usable section header table (offset {shoff}, {shnum} entries of {shentsize} bytes).");
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            sections.Add((U32(h + 4), (long)U64(h + 0x18), (long)U64(h + 0x20), U32(h + 0x28), U32(h + 0x2c)));
        }
    }

    public static ElfImage Load(string path) => new(path, File.ReadAllBytes(path));

    /// <summary>The System V ELF hash of a symbol or version name (gABI "Hash Table"), stored in vna_hash / vd_hash.</summary>
    public static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (byte c in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + c;
            uint high = h & 0xf0000000;
            if (high != 0) h ^= high >> 24;
            h &= ~high;
        }
        return h;
    }

    /// <summary>Every (library, version) pair the object requires, in file order.</summary>
    public IReadOnlyList<VersionNeed> VersionNeeds()
    {
        var result = new List<VersionNeed>();
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            long strtab = StringTable(s.Link);
            long entry = s.Offset;
            for (uint n = 0; n < s.Info; n++)
            {
                // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
                int count = U16(entry + 2);
                string file = CString(strtab + U32(entry + 4));
                long aux = entry + U32(entry + 8);
                for (int a = 0; a < count; a++)
                {
                    // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                    long nameOffset = strtab + U32(aux + 8);
                    result.Add(new VersionNeed(file, CString(nameOffset), U32(aux), U16(aux + 4), U16(aux + 6), aux, nameOffset));
                    uint nextAux = U32(aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(entry + 12);
                if (next == 0) break;
                entry += next;
            }
        }
        return result;
    }

    /// <summary>The DT_NEEDED entries of the dynamic section: the libraries the loader opens with this one.</summary>
    public IReadOnlyList<string> NeededLibraries()
    {
        var result = new List<string>();
        foreach (var s in sections.Where(s => s.Type == ShtDynamic))
        {
            long strtab = StringTable(s.Link);
            // Elf64_Dyn: d_tag i64, d_val u64; DT_NULL (0) ends the table, DT_NEEDED is 1.
            for (long e = s.Offset; e + 16 <= s.Offset + s.Size; e += 16)
            {
                ulong tag = U64(e);
                if (tag == 0) break;
                if (tag == 1) result.Add(CString(strtab + (long)U64(e + 8)));
            }
        }
        return result;
    }

    /// <summary>The version names the object defines (e.g. GLIBCXX_3.4.30 for libstdc++ of GCC 12).</summary>
    public IReadOnlySet<string> VersionDefinitions()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerdef))
        {
            long strtab = StringTable(s.Link);
            long entry = s.Offset;
            for (uint n = 0; n < s.Info; n++)
            {
                // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32;
                // the first Elf64_Verdaux (vda_name u32, vda_next u32) names the version itself, later ones its parents.
                if (U16(entry + 6) > 0) result.Add(CString(strtab + U32(entry + U32(entry + 12))));
                uint next = U32(entry + 16);
                if (next == 0) break;
                entry += next;
            }
        }
        return result;
    }

    /// <summary>
    /// Makes <paramref name="need"/> name <paramref name="replacement"/> instead: the string is overwritten in place
    /// (so it must have the same length; a version string is referenced by its vernaux record only) and vna_hash is
    /// recomputed, because the dynamic loader compares hashes before names.
    /// </summary>
    public void RenameVersionNeed(VersionNeed need, string replacement)
    {
        if (replacement.Length != need.Name.Length)
            throw new ArgumentException($"ELF: cannot rename required version {need.Name} to {replacement} in place; both names must have the same length.");
        if (CString(need.NameOffset) != need.Name || U32(need.AuxOffset) != need.Hash)
            throw new InvalidOperationException($"ELF: the record for {need.Name} in {path} changed since it was read.");
        Encoding.ASCII.GetBytes(replacement).CopyTo(bytes, need.NameOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)need.AuxOffset), ElfHash(replacement));
    }

    /// <summary>Writes the image to <paramref name="target"/> through a temporary file in the same directory.</summary>
    public void Save(string target)
    {
        string temp = target + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, target, overwrite: true);
    }

    private long StringTable(uint sectionIndex)
    {
        if (sectionIndex >= sections.Count)
            throw new InvalidDataException($"ELF: {path} links a version section to string table {sectionIndex}, but it has only {sections.Count} sections.");
        return sections[(int)sectionIndex].Offset;
    }

    private string CString(long offset)
    {
        int end = Array.IndexOf(bytes, (byte)0, (int)offset);
        if (end < 0) throw new InvalidDataException($"ELF: {path} has an unterminated string at offset {offset}.");
        return Encoding.ASCII.GetString(bytes, (int)offset, end - (int)offset);
    }

    private ushort U16(long offset) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)offset));
    private uint U32(long offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset));
    private ulong U64(long offset) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)offset));
}
