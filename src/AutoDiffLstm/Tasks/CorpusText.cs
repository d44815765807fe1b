using System.Reflection;

namespace AutoDiffLstm.Tasks;

/// <summary>Public-domain texts shipped inside the assembly for the character-level language model.</summary>
public static class CorpusText
{
    private static readonly Lazy<string> declaration = new(() => Load("AutoDiffLstm.Tasks.Data.declaration-of-independence.txt"));

    /// <summary>
    /// The United States Declaration of Independence (Continental Congress, July 4, 1776; public domain), about 8 KB,
    /// line endings normalised to '\n'.
    /// </summary>
    public static string DeclarationOfIndependence => declaration.Value;

    private static string Load(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"CorpusText: embedded resource '{resource}' is missing from {Assembly.GetExecutingAssembly().GetName().Name}.");
        using var reader = new StreamReader(stream);
        // Checkouts with autocrlf would otherwise change the vocabulary and the entropy.
        return reader.ReadToEnd().Replace("\r\n", "\n");
    }
}
