using AutoDiffLstm.IO;

namespace AutoDiffLstm.Experiments.Notebooks;

public static partial class Notebook
{
    /// <summary>
    /// The <c>display</c> of file-based twins (<c>using static AutoDiffLstm.Experiments.Notebooks.Notebook.Display;</c>),
    /// standing in for the notebook kernel's: text is printed, images are saved as files whose paths are printed.
    /// </summary>
    public static class Display
    {
        /// <summary>Where twins save displayed images unless <see cref="OutputVariable"/> names a folder.</summary>
        public const string DefaultOutputFolder = "out/notebooks";
        /// <summary>Environment variable naming the folder for displayed images.</summary>
        public const string OutputVariable = "AUTODIFFLSTM_NOTEBOOK_OUT";

        private static int imageCount;

        /// <summary>
        /// Shows <paramref name="value"/> as <see cref="DisplayFormatter"/> formats it. Lower-case to match the kernel's
        /// global <c>display</c>, so notebook code compiles unchanged in the twin.
        /// </summary>
        // ReSharper disable once InconsistentNaming
        public static void display(object? value, params string[] mimeTypes)
        {
            var bundle = DisplayFormatter.Format(value, mimeTypes);
            if (bundle.TryGetValue(DisplayFormatter.Png, out var base64))
            {
                var png = Convert.FromBase64String(base64);
                string folder = Environment.GetEnvironmentVariable(OutputVariable) is { Length: > 0 } custom
                    ? custom
                    : Path.Combine(DefaultOutputFolder, AppDomain.CurrentDomain.FriendlyName);
                string path = Path.Combine(folder, $"display-{Interlocked.Increment(ref imageCount):D2}.png");
                Directory.CreateDirectory(folder); // AtomicFile needs the folder; a first run has none yet
                AtomicFile.WriteAllBytes(path, png);
                var size = DisplayFormatter.PngSize(png);
                Console.WriteLine($"[image/png {size?.Width}x{size?.Height}: {path}]");
            }
            else if (bundle.TryGetValue(DisplayFormatter.PlainText, out var text)) Console.WriteLine(text);
            else Console.WriteLine(string.Join(Environment.NewLine, bundle.Values));
        }
    }
}
