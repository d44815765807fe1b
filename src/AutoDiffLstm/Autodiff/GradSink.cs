namespace AutoDiffLstm;

/// <summary>
/// A gradient buffer handed to a backward rule (from <see cref="Tensor{T}.GradSink"/>): with <see cref="Overwrite"/> the
/// buffer is fresh and the rule writes its contribution (every element), otherwise it adds its contribution.
/// </summary>
internal readonly struct GradSink<T>(T[] array, bool overwrite) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    /// <summary>The gradient array (exactly the tensor's size), for kernels that take arrays and offsets (Gemm).</summary>
    public readonly T[] Array = array;

    /// <summary>True when nothing has been written yet: the contents are arbitrary and must all be overwritten.</summary>
    public readonly bool Overwrite = overwrite;

    public Span<T> Span => Array;
}
