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

    // Storage bookkeeping for buffer reuse (see Tape.ReuseBuffers). A view (Reshape, Detach) shares the array of the
    // tensor that created it, its StorageOwner; only an owner whose array the engine rented can give it back.
    internal readonly TensorBase? StorageOwner;
    /// <summary>The engine rented <c>Data</c> for this tensor alone (an operation's output), so it may be recycled once dead.</summary>
    internal bool EngineOwnsStorage;
    /// <summary>Something untracked shares the storage (a detached view, the root of a backward pass): never recycle it.</summary>
    internal bool StorageEscaped;
    /// <summary>The storage went back to the pool; the values are gone.</summary>
    internal bool StorageRecycled;
    /// <summary>Recorded under <see cref="Tape.ReuseBuffers"/>: the tape gives the storage back at its next reset.</summary>
    internal bool ReleaseAtReset;

    /// <summary>
    /// Tensors constructed so far when this one was: orders tensors by creation (a pass tells its own results from
    /// older tensors by it). Racy increments only repeat a number, which both uses tolerate.
    /// </summary>
    internal readonly int Serial;
    internal static int Constructed => constructed;
    private static int constructed;

    /// <summary>A hash fixed at construction, for maps keyed by tensor identity (<see cref="TensorIdentity"/>).</summary>
    internal int IdentityHash => unchecked(Serial * -1640531535); // Fibonacci hashing spreads consecutive serials

    private protected TensorBase(int[] dims, TensorBase? storageOwner)
    {
        Dims = dims;
        StorageOwner = storageOwner;
        Serial = ++constructed;
    }

    /// <summary>True once the tape recycled this tensor's storage (it was recorded under <see cref="Tape.ReuseBuffers"/> and the tape was reset).</summary>
    public bool IsRecycled => (StorageOwner ?? this).StorageRecycled;

    /// <summary>Marks the storage as shared with something the tape does not track, so that no reset recycles it.</summary>
    internal void KeepStorage() => (StorageOwner ?? this).StorageEscaped = true;

    internal void ThrowIfRecycled(string op)
    {
        if (Tape.tracing > 0) Tracing.NoteValueRead(this, op);
        if (IsRecycled)
            throw new InvalidOperationException(
                $"{op}: this tensor ({ShapeText}) was computed under Tape.ReuseBuffers and the tape has been reset since, so its storage " +
                "was recycled for later operations. Read values before the reset (e.g. before Backward), or Detach()/Clone() the tensor " +
                "while it is still valid to keep them.");
    }

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
    /// <summary>Gives the storage back to the pool if this tensor was marked <see cref="ReleaseAtReset"/> and nothing escaped with it.</summary>
    internal abstract void ReleaseStorage();
    /// <summary>
    /// Gives the storage back to the pool now, if the engine rented it for this tensor and nothing untracked shares it
    /// (<paramref name="evenIfEscaped"/>: the caller tracks every view of it itself); the values are gone.
    /// </summary>
    internal abstract void RecycleStorage(bool evenIfEscaped = false);

    /// <summary>
    /// Gives back the storage of a temporary of one pass: this tensor's storage (its own, or its owner's for a view), if
    /// nothing recorded it and it was made after <paramref name="madeAfter"/> (a <see cref="Constructed"/> count taken when
    /// the pass began), so neither a caller's tensor nor a recorded value is ever touched. The caller knows every view
    /// of it (an unrecorded Reshape marks storage as shared, which is why that mark is ignored here).
    /// </summary>
    internal void RecycleTemporary(int madeAfter)
    {
        var storage = StorageOwner ?? this;
        if (storage.OwnerTape is null && storage.Serial > madeAfter) storage.RecycleStorage(evenIfEscaped: true);
    }

    /// <summary>
    /// <see cref="RecycleTemporary(int)"/>, unless one of <paramref name="kept"/> (what the pass hands on: its outputs,
    /// the next state) is this storage or a view of it.
    /// </summary>
    internal void RecycleTemporary<TKept>(int madeAfter, IReadOnlyList<TKept> kept) where TKept : TensorBase
    {
        for (int i = 0; i < kept.Count; i++)
            if (SharesStorageWith(kept[i])) return;
        RecycleTemporary(madeAfter);
    }

    /// <summary>Whether the two are the same storage: the same tensor, views of one another or of one owner.</summary>
    internal bool SharesStorageWith(TensorBase other) => ReferenceEquals(other.StorageOwner ?? other, StorageOwner ?? this);
    /// <summary>Bytes of the storage.</summary>
    internal abstract long StorageBytes { get; }
}

/// <summary>
/// A dense, contiguous, row-major tensor of <c>float</c> or <c>double</c>. Operations on tensors that require gradients
/// are recorded on the current thread's <see cref="Tape"/>; <c>Backward</c> walks it once in reverse.
/// </summary>
/// <typeparam name="T"><c>float</c> or <c>double</c>.</typeparam>
public sealed partial class Tensor<T> : TensorBase where T : unmanaged, IFloatingPointIeee754<T>
{
    internal readonly T[] Data;

    internal Tensor(int[] dims, T[] data) : base(dims, null)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Tensor<{typeof(T).Name}>: only float and double tensors are supported.");
        Data = data;
    }

    /// <summary>A view: new dims over the storage of <paramref name="source"/> (whose owner becomes this view's owner).</summary>
    private Tensor(int[] dims, Tensor<T> source) : base(dims, source.StorageOwner ?? source)
    {
        Data = source.Data;
    }

    /// <summary>A tensor over <paramref name="source"/>'s storage with other dims (same size); the caller records it or calls <see cref="TensorBase.KeepStorage"/>.</summary>
    internal static Tensor<T> ViewOf(Tensor<T> source, int[] dims) => new(dims, source);

    /// <summary>A tensor of the given shape whose contents are about to be overwritten (storage from the thread's pool).</summary>
    internal static Tensor<T> Uninitialized(int[] dims) =>
        new(dims, BufferPool<T>.Rent(ShapeMath.Size(dims))) { EngineOwnsStorage = true };

    /// <summary>A zero-filled tensor (storage from the thread's pool).</summary>
    internal static Tensor<T> ZerosLike(int[] dims) =>
        new(dims, BufferPool<T>.RentZeroed(ShapeMath.Size(dims))) { EngineOwnsStorage = true };

    /// <summary>A rank-0 operation output holding <paramref name="value"/>.</summary>
    internal static Tensor<T> ScalarOutput(T value)
    {
        var y = Uninitialized([]);
        y.Data[0] = value;
        return y;
    }

    /// <inheritdoc/>
    public override int Size => Data.Length;

    // The gradient lives in a bare array, so backward creates no tensor objects for intermediates' gradients; the public
    // Grad wraps it on demand (and keeps the wrapper). gradIsPooled: the engine rented the array and never handed it
    // out, so an intermediate's gradient may go back to the pool as soon as backward has consumed it.
    private T[]? gradData;
    private Tensor<T>? gradTensor;
    private bool gradIsPooled;

    /// <summary>The accumulated gradient of a leaf (or of an intermediate that called <see cref="RetainGrad"/>); null until a backward pass reaches it.</summary>
    public Tensor<T>? Grad
    {
        get
        {
            if (gradData is null) return null;
            if (gradTensor is null || !ReferenceEquals(gradTensor.Data, gradData)) gradTensor = new Tensor<T>(Dims, gradData);
            return gradTensor;
        }
        set
        {
            gradTensor = value;
            gradData = value?.Data;
            gradIsPooled = false;
        }
    }

    /// <summary>The gradient's array, or null (engine use: reads it without creating the <see cref="Grad"/> wrapper).</summary>
    internal T[]? GradData => gradData;

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
    public ReadOnlySpan<T> AsSpan()
    {
        ThrowIfRecycled("AsSpan");
        return Data;
    }

    /// <summary>Writable access to the elements. Writing into a tensor that a recorded operation has used corrupts its gradient.</summary>
    public Span<T> AsWritableSpan()
    {
        ThrowIfRecycled("AsWritableSpan");
        return Data;
    }

    /// <summary>Copies the elements out in row-major order.</summary>
    public T[] ToArray()
    {
        ThrowIfRecycled("ToArray");
        return (T[])Data.Clone();
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T Item()
    {
        ThrowIfRecycled("Item");
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
        ThrowIfRecycled("Indexer");
        if (index.Length != Rank) throw new ArgumentException($"Indexer: got {index.Length} indices for a tensor of shape {ShapeText}.");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Dims[i]) throw new IndexOutOfRangeException($"Indexer: index {index[i]} is out of range for dimension {i} of shape {ShapeText}.");
            flat = flat * Dims[i] + index[i];
        }
        return flat;
    }

    /// <summary>
    /// A tensor sharing this one's values but cut off from the tape: no gradient flows through it. Its values stay valid
    /// across tape resets also under <see cref="Tape.ReuseBuffers"/> (the shared storage is then never recycled).
    /// </summary>
    public Tensor<T> Detach()
    {
        ThrowIfRecycled("Detach");
        KeepStorage();
        return new(Dims, this);
    }

    /// <summary>A deep copy that is a new leaf (not recorded, no gradient).</summary>
    public Tensor<T> Clone()
    {
        ThrowIfRecycled("Clone");
        return new(Dims, (T[])Data.Clone());
    }

    /// <summary>
    /// A new tensor with <paramref name="f"/> applied to every element, NOT recorded (no gradient flows through it): for
    /// the forward function of a <see cref="CustomPrimitive{T}"/>, or for values outside any graph.
    /// </summary>
    public Tensor<T> Map(Func<T, T> f)
    {
        ThrowIfRecycled("Map");
        var data = new T[Data.Length];
        for (int i = 0; i < data.Length; i++) data[i] = f(Data[i]);
        return new((int[])Dims.Clone(), data);
    }

    /// <summary>Clears <see cref="Grad"/> (sets it to null; the old gradient tensor stays valid for whoever holds it).</summary>
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
            GradSink().Add(seed.Data);
            return;
        }
        Tape.BackwardFrom(this, seed, retainGraph);
    }

    /// <summary>
    /// Where a backward rule puts its contribution to this tensor's gradient (the contract and its three modes are on
    /// <see cref="GradSink{T}"/>): onto the gradient that earlier rules left, or, when it is the first to reach this
    /// tensor in the pass, into a fresh buffer. With <paramref name="passThrough"/> (an op output with this tensor's size
    /// whose gradient this tensor receives unchanged, and which the rule reads no more) and no gradient here yet, this
    /// tensor takes that engine-owned buffer instead of copying it: backward would give it back to the pool right after
    /// the rule anyway.
    /// </summary>
    internal GradSink<T> GradSink(Tensor<T>? passThrough = null)
    {
        if (gradData is not null) return new GradSink<T>(gradData, overwrite: false, takenOver: false);
        if (passThrough is { gradData: { } g, gradIsPooled: true, IsLeaf: false, RetainsGradient: false } && g.Length == ShapeMath.Size(Dims))
        {
            (gradData, gradIsPooled) = (g, true);
            (passThrough.gradData, passThrough.gradTensor, passThrough.gradIsPooled) = (null, null, false);
            return new GradSink<T>(g, overwrite: false, takenOver: true);
        }
        // The shape's size, not the storage's: a gradient-only tensor (a checkpoint segment's token) has no values.
        gradData = BufferPool<T>.Rent(ShapeMath.Size(Dims));
        gradIsPooled = true;
        return new GradSink<T>(gradData, overwrite: true, takenOver: false);
    }

    /// <summary>
    /// <c>GradSink().Zeroed()</c> under its former name, kept only because the compiled-step code (Compile/*, being
    /// rewritten elsewhere) calls it; rules use <see cref="GradSink"/>.
    /// </summary>
    internal Span<T> GradBuffer() => GradSink().Zeroed();

    internal override bool HasGrad => gradData is not null;

    // An intermediate's gradient is never visible outside backward (unless RetainGrad), so once its rule has run the
    // array can serve the next gradient of the same size. Leaf and retained gradients belong to the user: never pooled.
    internal override void DropIntermediateGrad()
    {
        if (IsLeaf || RetainsGradient) return;
        if (gradData is not null && gradIsPooled) BufferPool<T>.Return(gradData);
        gradData = null;
        gradTensor = null;
        gradIsPooled = false;
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
        if (gradData is null) Grad = parkedGrad;
        else System.Numerics.Tensors.TensorPrimitives.Add(gradData, parkedGrad.Data, gradData);
        parkedGrad = null;
    }

    internal override int FirstNonFiniteGrad() => gradData is null ? -1 : Kernels.FirstNonFinite<T>(gradData);

    internal override int FirstNonFinite() => Kernels.FirstNonFinite<T>(Data);

    internal override string ElementTypeName => typeof(T) == typeof(float) ? "float" : "double";

    internal override void ReleaseStorage()
    {
        if (!ReleaseAtReset) return;
        ReleaseAtReset = false;
        RecycleStorage();
    }

    internal override void RecycleStorage(bool evenIfEscaped = false)
    {
        if (!EngineOwnsStorage || StorageOwner is not null || (StorageEscaped && !evenIfEscaped) || StorageRecycled) return;
        StorageRecycled = true;
        BufferPool<T>.Return(Data);
    }

    internal override long StorageBytes => (long)Data.Length * (typeof(T) == typeof(float) ? sizeof(float) : sizeof(double));

    /// <summary>Shape, element type and (truncated) values, for notebooks and debugging.</summary>
    public override string ToString() => TensorFormatter.Format(this);
}
