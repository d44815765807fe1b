using System.Globalization;
using AutoDiffLstm.IO;

namespace AutoDiffLstm.Recurrent;

public sealed partial class RecurrentLayer<T>
{
    /// <summary>
    /// Writes the layer's parameters to a safetensors file under their PyTorch names (weight_ih_l0, ...,
    /// bias_hh_l1_reverse): a state dict that PyTorch reads with <c>safetensors.torch.load_file</c> and
    /// <c>module.load_state_dict</c>. The file is written atomically (a crash leaves the old file or the complete new
    /// one). The metadata records "format": "pt" as PyTorch's writer does, and the architecture for a reader's eyes.
    /// </summary>
    public void Save(string path)
    {
        var cell = cells[0][0];
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["cell"] = cell.Kind,
            ["input_size"] = InputSize.ToString(CultureInfo.InvariantCulture),
            ["hidden_size"] = HiddenSize.ToString(CultureInfo.InvariantCulture),
            ["num_layers"] = NumLayers.ToString(CultureInfo.InvariantCulture),
            ["bidirectional"] = NumDirections == 2 ? "true" : "false",
        };
        Safetensors.Save(path, NamedParameters().Select(p => new KeyValuePair<string, TensorBase>(p.Key, p.Value)), metadata);
    }

    /// <summary>
    /// Copies a state dict saved by <see cref="Save"/> or by PyTorch (same names, shapes and dtype: F32 for a float
    /// layer, F64 for a double one) into this layer's parameters in place, all or nothing: any missing, extra or
    /// mismatched tensor throws before a single parameter changes, and the message lists every mismatch.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is malformed or does not match this layer.</exception>
    public void LoadInto(string path) =>
        Safetensors.LoadInto(path, NamedParameters().Select(p => new KeyValuePair<string, TensorBase>(p.Key, p.Value)));
}
