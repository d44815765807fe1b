using System.Text;
using AutoDiffLstm.Notebooks.Ipynb;

namespace AutoDiffLstm.Notebooks.Running;

/// <summary>
/// Collects one cell's outputs in the order they happen: consecutive writes to the same stream merge into one stream
/// output, and a display closes the text before it, as in Jupyter. Thread-safe, since cell code may write from parallel loops.
/// </summary>
internal sealed class CellOutputSink
{
    private readonly object gate = new();
    private readonly List<CellOutput> outputs = [];
    private readonly StringBuilder pending = new();
    private string? pendingStream;

    public void Write(string stream, string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        lock (gate)
        {
            if (pendingStream != stream) FlushLocked();
            pendingStream = stream;
            pending.Append(text.Replace("\r\n", "\n"));
        }
    }

    public void Add(CellOutput output)
    {
        lock (gate)
        {
            FlushLocked();
            outputs.Add(output);
        }
    }

    public IReadOnlyList<CellOutput> Complete()
    {
        lock (gate)
        {
            FlushLocked();
            return outputs.ToArray();
        }
    }

    private void FlushLocked()
    {
        if (pendingStream is not null && pending.Length > 0) outputs.Add(new StreamOutput(pendingStream, pending.ToString()));
        pending.Clear();
        pendingStream = null;
    }
}
