using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace AutoDiffLstm.Experiments.Notebooks;

/// <summary>
/// Turns a value given to <c>display(...)</c> into a MIME bundle (MIME type to content; binary content base64-encoded), the
/// same way for the notebook runner (which stores the bundle as a Jupyter output) and for the file-based twin (which
/// prints the text and saves images).
/// </summary>
/// <remarks>
/// Rules, first match wins: a PNG byte array becomes <c>image/png</c>; an object with a public <c>byte[] ToPng()</c> (for
/// example <see cref="Figures.LineFigure"/>) becomes <c>image/png</c>; an object with a public <c>string ToHtml()</c> becomes
/// <c>text/html</c> plus a <c>text/plain</c> fallback; anything else becomes <c>text/plain</c> (strings as they are,
/// sequences as <c>[a, b, c]</c>, other values through invariant-culture <c>ToString()</c>). The methods are found by name
/// rather than through an interface so that types of any library, including ones this library cannot reference, can be
/// displayed. The .NET Interactive kernel renders objects as HTML tables; here only these simple forms exist.
/// </remarks>
public static class DisplayFormatter
{
    /// <summary>The MIME type of PNG images.</summary>
    public const string Png = "image/png";
    /// <summary>The MIME type of plain text.</summary>
    public const string PlainText = "text/plain";
    /// <summary>The MIME type of HTML.</summary>
    public const string Html = "text/html";

    private const int MaxSequenceItems = 100;
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// The bundle for <paramref name="value"/>. With <paramref name="mimeTypes"/> (as in the kernel's
    /// <c>display(html, "text/html")</c>) only those types are kept, and a string value is taken to already be content of
    /// the first requested type that the bundle lacks.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Format(object? value, params string[] mimeTypes)
    {
        var bundle = FormatAll(value);
        if (mimeTypes is not { Length: > 0 }) return bundle;
        var chosen = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var mime in mimeTypes)
        {
            if (bundle.TryGetValue(mime, out var content)) chosen[mime] = content;
            else if (value is string s) chosen[mime] = s;
            else throw new ArgumentException($"display: a {value?.GetType().Name ?? "null"} cannot be shown as '{mime}' (it can be shown as {string.Join(", ", bundle.Keys)}).");
        }
        return chosen;
    }

    /// <summary>True when <paramref name="bytes"/> starts with the PNG file signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.StartsWith(PngSignature);

    /// <summary>Width and height from a PNG's IHDR chunk (bytes 16 to 23, big-endian), or null when they cannot be read.</summary>
    public static (int Width, int Height)? PngSize(ReadOnlySpan<byte> png)
    {
        if (!IsPng(png) || png.Length < 24) return null;
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png[16..]), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png[20..]));
    }

    /// <summary>The text/plain form alone (what the twin prints for values without an image).</summary>
    public static string ToPlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable sequence => FormatSequence(sequence),
        _ => value.ToString() ?? "",
    };

    private static SortedDictionary<string, string> FormatAll(object? value)
    {
        var bundle = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (value is byte[] bytes && IsPng(bytes))
        {
            bundle[Png] = Convert.ToBase64String(bytes);
            return bundle;
        }
        if (value is not null && !(value is string) && Invoke<byte[]>(value, "ToPng") is { } png)
        {
            if (!IsPng(png)) throw new InvalidOperationException($"display: {value.GetType().Name}.ToPng() returned {png.Length} bytes that are not a PNG image.");
            bundle[Png] = Convert.ToBase64String(png);
            return bundle;
        }
        if (value is not null && !(value is string) && Invoke<string>(value, "ToHtml") is { } html) bundle[Html] = html;
        bundle[PlainText] = ToPlainText(value);
        return bundle;
    }

    private static T? Invoke<T>(object target, string methodName) where T : class
    {
        var method = target.GetType().GetMethod(methodName, BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (method is null || method.ReturnType != typeof(T)) return null;
        try { return (T?)method.Invoke(target, null); }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // Show the figure's own error, not the reflection wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static string FormatSequence(IEnumerable sequence)
    {
        var sb = new StringBuilder("[");
        int n = 0;
        foreach (var item in sequence)
        {
            if (n > 0) sb.Append(", ");
            if (n == MaxSequenceItems) { sb.Append("..."); break; }
            sb.Append(item is IEnumerable inner and not string ? FormatSequence(inner) : ToPlainText(item));
            n++;
        }
        return sb.Append(']').ToString();
    }
}
