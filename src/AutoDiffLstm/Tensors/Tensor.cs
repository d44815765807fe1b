using System.Numerics;

namespace AutoDiffLstm;

/// <summary>Type-erased view of a tensor, so that one tape can hold float and double operations.</summary>
public abstract class TensorBase
{
    internal readonly int[] Dims;
    internal Tape? OwnerTape;
    internal long TapeGeneration;
    internal int TapeIndex = -1;
    internal bool RetainsGradient;
    private bool requiresGrad;

    private protected TensorBase(int[] dims) { Dims = dims; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => Dims;

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank => Dims.Length;

    /// <summary>Total number of elements.</summary>
    public abstract int Size { get; }

    /// <summary>Whether gradients are computed for this tensor by <c>Backward</c>. Set it on leaves (parameters, inputs).</summary>
    public bool RequiresGrad
    {
        get => requiresGrad;
        set
        {
            if (!IsLeaf && !value)
                throw new InvalidOperationException("RequiresGrad cannot be cleared on a tensor produced by a recorded operation; use Detach() instead.");
            requiresGrad = value;
        }
    }

    internal void MarkRequiresGrad() => requiresGrad = true;

    /// <summary>True when the tensor was not produced by a recorded operation (a parameter or an input).</summary>
    public bool IsLeaf => TapeIndex < 0;

    /// <summary>The shape as text, e.g. <c>[2, 3]</c>.</summary>
    public string ShapeText => ShapeMath.Format(Dims);

    internal abstract bool HasGrad { get; }
    internal abstract void DropIntermediateGrad();
    /// <summary>Sets the gradient aside (see <see cref="UnparkGrad"/>) and returns this tensor.</summary>
    internal abstract TensorBase ParkGrad();
    /// <summary>Adds the gradient set aside by <see cref="ParkGrad"/> back into the current one.</summary>
    internal abstract void UnparkGrad();
    internal abstract int FirstNonFiniteGrad();
    internal abstract int FirstNonFinite();
    internal abstract string ElementTypeName { get; }
}

/// <summary>
/// A dense, contiguous, row-major tensor of <c>float</c> or <c>double</c>. Operations on tensors that require gradients
/// are recorded on the current thread's <see cref="Tape"/>; <c>Backward</c> walks it once in reverse.
/// </summary>
/// <typeparam name="T"><c>float</c> or <c>double</c>.</typeparam>
public sealed partial class Tensor<T> : TensorBase where T : unmanaged, IFloatingPointIeee754<T>
{
    internal readonly T[] Data;

    internal Tensor(int[] dims, T[] data) : base(dims)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Tensor<{typeof(T).Name}>: only float and double tensors are supported.");
        Data = data;
    }

    /// <summary>A tensor of the given shape whose contents are about to be overwritten.</summary>
    internal static Tensor<T> Uninitialized(int[] dims)
    {
        int n = ShapeMath.Size(dims);
        return new Tensor<T>(dims, n == 0 ? Array.Empty<T>() : GC.AllocateUninitializedArray<T>(n));
    }

    internal static Tensor<T> ZerosLike(int[] dims) => new(dims, new T[ShapeMath.Size(dims)]);

    /// <inheritdoc/>
    public override int Size => Data.Length;

    /// <summary>The accumulated gradient of a leaf (or of an intermediate that called <see cref="RetainGrad"/>); null until a backward pass reaches it.</summary>
    public Tensor<T>? Grad { get; set; }

    /// <summary>Marks this leaf as a parameter: backward will accumulate into its <see cref="Grad"/>. Returns this tensor.</summary>
    public Tensor<T> RequireGrad()
    {
        RequiresGrad = true;
        return this;
    }

    /// <summary>Keeps this intermediate's gradient after backward (e.g. dL/dh_t at every time step). Returns this tensor.</summary>
    public Tensor<T> RetainGrad()
    {
        RetainsGradient = true;
        return this;
    }

    /// <summary>Read-only access to the elements in row-major order.</summary>
    public ReadOnlySpan<T> AsSpan() => Data;

    /// <summary>Writable access to the elements. Writing into a tensor that a recorded operation has used corrupts its gradient.</summary>
    public Span<T> AsWritableSpan() => Data;

    /// <summary>Copies the elements out in row-major order.</summary>
    public T[] ToArray() => (T[])Data.Clone();

    /// <summary>The value of a one-element tensor.</summary>
    public T Item()
    {
        if (Size != 1) throw new InvalidOperationException($"Item: the tensor has shape {ShapeText} ({Size} elements); Item needs exactly one element.");
        return Data[0];
    }

    /// <summary>The value of a one-element tensor as double.</summary>
    public double ItemAsDouble() => double.CreateTruncating(Item());

    /// <summary>Element at a multi-index (row-major).</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public T this[params int[] index]
    {
        get => Data[FlatIndex(index)];
        set => Data[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Indexer: got {index.Length} indices for a tensor of shape {ShapeText}.");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Dims[i]) throw new IndexOutOfRangeException($"Indexer: index {index[i]} is out of range for dimension {i} of shape {ShapeText}.");
            flat = flat * Dims[i] + index[i];
        }
        return flat;
    }

    /// <summary>A tensor sharing this one's values but cut off from the tape: no gradient flows through it.</summary>
    public Tensor<T> Detach() => new(Dims, Data);

    /// <summary>A deep copy that is a new leaf (not recorded, no gradient).</summary>
    public Tensor<T> Clone() => new(Dims, (T[])Data.Clone());

    /// <summary>Clears <see cref="Grad"/>.</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>Starts the backward pass from a scalar (seed 1). See <see cref="Backward(Tensor{T}, bool)"/>.</summary>
    public void Backward(bool retainGraph = false)
    {
        if (Size != 1)
            throw new InvalidOperationException($"Backward: the output has shape {ShapeText}; backward without a seed needs a scalar. Pass a seed gradient of shape {ShapeText}.");
        var seed = new Tensor<T>(Dims, [T.One]);
        Backward(seed, retainGraph);
    }

    /// <summary>
    /// Walks the tape once in reverse from this tensor with the seed gradient dL/d(this), accumulating into every leaf
    /// that requires a gradient. The tape is then freed (a second call throws) unless <paramref name="retainGraph"/> is set.
    /// </summary>
    public void Backward(Tensor<T> seed, bool retainGraph = false)
    {
        if (!ShapeMath.Equal(seed.Dims, Dims))
            throw new ArgumentException($"Backward: the seed gradient has shape {seed.ShapeText} but the output has shape {ShapeText}; they must match.");
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward: this tensor does not require a gradient (no input of the computation called RequireGrad(), or it ran under NoGrad or was detached).");
        if (IsLeaf)
        {
            AccumulateGrad(seed.Data);
            return;
        }
        Tape.BackwardFrom(this, seed, retainGraph);
    }

    /// <summary>The gradient buffer for accumulation, zero-filled on first use in this backward pass.</summary>
    internal Span<T> GradBuffer() => GradArray();

    /// <summary>The gradient's backing array, zero-filled on first use (for kernels that take arrays).</summary>
    internal T[] GradArray()
    {
        Grad ??= ZerosLike(Dims);
        return Grad.Data;
    }

    internal void AccumulateGrad(ReadOnlySpan<T> g)
    {
        if (Grad is null) Grad = new Tensor<T>(Dims, g.ToArray());
        else System.Numerics.Tensors.TensorPrimitives.Add(Grad.Data, g, Grad.Data);
    }

    internal override bool HasGrad => Grad is not null;

    internal override void DropIntermediateGrad()
    {
        if (!IsLeaf && !RetainsGradient) Grad = null;
    }

    private Tensor<T>? parkedGrad;

    internal override TensorBase ParkGrad()
    {
        parkedGrad = Grad;
        Grad = null;
        return this;
    }

    internal override void UnparkGrad()
    {
        if (parkedGrad is null) return;
        if (Grad is null) Grad = parkedGrad;
        else System.Numerics.Tensors.TensorPrimitives.Add(Grad.Data, parkedGrad.Data, Grad.Data);
        parkedGrad = null;
    }

    internal override int FirstNonFiniteGrad() => Grad is null ? -1 : Kernels.FirstNonFinite<T>(Grad.Data);

    internal override int FirstNonFinite() => Kernels.FirstNonFinite<T>(Data);

    internal override string ElementTypeName => typeof(T) == typeof(float) ? "float" : "double";

    /// <summary>Shape, element type and (truncated) values, for notebooks and debugging.</summary>
    public override string ToString() => TensorFormatter.Format(this);
}
