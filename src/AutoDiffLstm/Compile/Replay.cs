namespace AutoDiffLstm;

/// <summary>
/// A primitive whose forward a compiled program can run again on new inputs: <see cref="Replay"/> calls the primitive's
/// own public operation with the arguments recorded in the entry (whose tensor inputs the program has replaced). This is
/// how a traced step runs its products and every operation it does not fuse, with nothing defined a second time.
/// </summary>
internal interface IReplayableRule
{
    /// <summary>The operation again, on <paramref name="e"/>'s inputs (A, B, C, Aux) with its recorded constants; <c>e.Output</c> is the traced output (for its shape).</summary>
    TensorBase Replay(in TapeEntry e);
}
