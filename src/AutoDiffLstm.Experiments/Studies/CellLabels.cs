using AutoDiffLstm.Experiments.Models;
using AutoDiffLstm.Experiments.Training;

namespace AutoDiffLstm.Experiments.Studies;

/// <summary>
/// Legend labels that say what matters about a cell: an LSTM's forget-gate bias decides how far its gradient reaches
/// (Gers et al. 2000; Jozefowicz et al. 2015), so "lstm" alone would leave a reader guessing which one was plotted.
/// </summary>
public static class CellLabels
{
    /// <summary>"lstm, forget bias 1"; without a set bias "lstm, forget bias ~0 (default)" (PyTorch draws it from U(±1/sqrt H)); other cells by name.</summary>
    public static string Of(string cell, double? forgetBias) =>
        !CellCatalog.Contains(cell) || !CellCatalog.AcceptsForgetBias(cell) ? cell
        : forgetBias is double fb ? FormattableString.Invariant($"{cell}, forget bias {fb:0.###}")
        : $"{cell}, forget bias ~0 (default)";

    /// <summary>The label of a training run: its cell and forget bias, and its layers when stacked.</summary>
    public static string Of(TrainingOptions options) =>
        Of(options.Cell, options.ForgetBias) + (options.Layers > 1 ? $", {options.Layers} layers{(options.Residual ? " residual" : "")}" : "");
}
