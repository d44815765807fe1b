namespace AutoDiffLstm;

/// <summary>
/// The tangents of forward mode, keyed by tensor: the ones seeded for the inputs and those the rules have pushed to
/// recorded outputs. A tensor without an entry has a zero tangent.
/// </summary>
/// <remarks>
/// A pass that knows where each value is last read (<see cref="Tape.PushTangents"/> with the values to keep) calls
/// <see cref="Release"/> after that read: the tangent's storage goes back to the buffer pool once no other tangent
/// shares it (a rule may hand on its input's tangent, or a view of it), so the next operation's tangent reuses it instead
/// of a fresh array. Only storage that the engine rented during the pass for an unrecorded result is given back: never
/// a seed (the caller's tangents), a recorded value, or a tensor older than the pass (a constant a rule hands on).
/// Views of a tangent (an unrecorded Reshape marks its storage as shared) are counted here, so they do not keep it from
/// going back. Reading a released tangent throws.
/// </remarks>
internal sealed class Tangents
{
    private readonly Dictionary<TensorBase, TensorBase> map = new(TensorIdentity.Instance);
    private Dictionary<TensorBase, int>? holders;   // storage owner -> tangents that use it, once anything is released
    private HashSet<TensorBase>? seedStorage;       // storage of the seeds: never given back
    private int passStart;                          // TensorBase.Serial before the pass: older storage is never given back

    /// <summary>Stands in the map for a tangent that was released after its last read.</summary>
    private static readonly TensorBase Released = Tensor.Scalar(0f);

    /// <summary>The tangent of <paramref name="t"/>, or null when it is zero (or <paramref name="t"/> is null).</summary>
    public Tensor<T>? Of<T>(TensorBase? t) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (t is null || !map.TryGetValue(t, out var v)) return null;
        if (ReferenceEquals(v, Released))
            throw new InvalidOperationException($"Forward mode: the tangent of a {t.ShapeText} value was read after the read its pass recorded as the last (an operation reads a tensor it does not list among its inputs).");
        return (Tensor<T>)v;
    }

    /// <summary>Seeds the tangent of an input of the pass; its storage is the caller's and is never given back.</summary>
    public void Seed(TensorBase t, TensorBase tangent, string op)
    {
        Set(t, tangent, op);
        (seedStorage ??= new(TensorIdentity.Instance)).Add(StorageOf(tangent));
    }

    public void Set(TensorBase t, TensorBase tangent, string op)
    {
        if (!ShapeMath.Equal(t.Dims, tangent.Dims))
            throw new InvalidOperationException($"{op}: the forward-mode rule produced a tangent of shape {tangent.ShapeText} for an output of shape {t.ShapeText}.");
        if (holders is not null && map.TryGetValue(t, out var old) && !ReferenceEquals(old, Released)) Drop(old);
        map[t] = tangent;
        if (holders is not null) Hold(tangent);
    }

    private void Hold(TensorBase tangent) => holders![StorageOf(tangent)] = holders.GetValueOrDefault(StorageOf(tangent)) + 1;

    /// <summary>Starts counting which tangents share storage, so that <see cref="Release"/> can give storage back (call before the pass).</summary>
    public void TrackStorage()
    {
        if (holders is not null) return;
        passStart = TensorBase.Constructed;
        holders = new(TensorIdentity.Instance);
        foreach (var tangent in map.Values) Hold(tangent);
    }

    /// <summary>
    /// <paramref name="t"/>'s tangent has had its last read: forget it, and give its storage back to the pool when no
    /// other tangent uses it and the engine rented it for an unrecorded result.
    /// </summary>
    public void Release(TensorBase t)
    {
        if (holders is null || !map.TryGetValue(t, out var tangent) || ReferenceEquals(tangent, Released)) return;
        map[t] = Released;
        Drop(tangent);
    }

    private void Drop(TensorBase tangent)
    {
        var storage = StorageOf(tangent);
        int left = holders![storage] - 1;
        if (left > 0)
        {
            holders[storage] = left;
            return;
        }
        holders.Remove(storage);
        if (!(seedStorage?.Contains(storage) ?? false)) storage.RecycleTemporary(passStart);
    }

    private static TensorBase StorageOf(TensorBase t) => t.StorageOwner ?? t;

    /// <summary>Whether any input of the entry carries a tangent (otherwise its output's tangent is zero).</summary>
    public bool AnyInput(in TapeEntry e)
    {
        foreach (var t in e.Inputs())
            if (map.ContainsKey(t)) return true;
        return false;
    }
}

/// <summary>
/// The cotangents of a reverse pass run as tensor operations (<see cref="Autograd.Grad{T}(Tensor{T}, IReadOnlyList{Tensor{T}}, Tensor{T}?, bool, bool?)"/>):
/// a rule adds each input's contribution here; contributions to one tensor are summed with the engine's Add, so with
/// recording on the sum is differentiable too.
/// </summary>
internal sealed class Cotangents
{
    private readonly Dictionary<TensorBase, TensorBase> map = new(TensorIdentity.Instance);
    private readonly Dictionary<TensorBase, Pending> slices = new(TensorIdentity.Instance);

    private readonly Dictionary<TensorBase, Pending> products = new(TensorIdentity.Instance);

    /// <summary>
    /// The cotangent of <paramref name="t"/> (slices added by <see cref="AddSlice"/> and products added by
    /// <see cref="AddProduct"/> are joined here, once), or null.
    /// </summary>
    public TensorBase? Of(TensorBase t)
    {
        foreach (var pendingSet in (ReadOnlySpan<Dictionary<TensorBase, Pending>>)[slices, products])
            if (pendingSet.Remove(t, out var pending))
            {
                var joined = pending.Join();
                map[t] = map.TryGetValue(t, out var dense) ? pending.Add(dense, joined) : joined;
            }
        return map.TryGetValue(t, out var v) ? v : null;
    }

    /// <summary>
    /// Adds left^T right (left [N, rows of input], right [N, columns of input]) to the cotangent of the matrix
    /// <paramref name="input"/>: a weight's gradient, one outer-product sum per use. The factors are kept and joined by
    /// one product of their row-wise concatenations when the cotangent is read, instead of a [out, in] product and a sum
    /// per use: a weight used at each of T steps then costs O(T (out + in)) memory instead of O(T out in) (Σ_t a_t^T b_t
    /// = [a_1; ...; a_T]^T [b_1; ...; b_T]).
    /// </summary>
    public void AddProduct<T>(string op, Tensor<T> input, Tensor<T> left, Tensor<T> right) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (!input.RequiresGrad) return;
        if (input.Rank != 2 || left.Rank != 2 || right.Rank != 2 || left.Dims[0] != right.Dims[0] || left.Dims[1] != input.Dims[0] || right.Dims[1] != input.Dims[1])
            throw new InvalidOperationException($"{op}: the backward rule produced product factors {left.ShapeText}^T x {right.ShapeText} for an input of shape {input.ShapeText}.");
        if (!products.TryGetValue(input, out var set)) products[input] = set = new Products<T>();
        ((Products<T>)set).Add(left, right);
    }

    /// <summary>
    /// Adds <paramref name="piece"/> as the cotangent of the slice [start, start + length) of <paramref name="input"/>
    /// along <paramref name="axis"/> (zero elsewhere). The slices are kept apart and joined by one Concat when the
    /// cotangent is read, instead of each being padded to the input's full shape and summed: T per-step slices of a
    /// [T, ...] sequence then cost O(T) instead of O(T^2).
    /// </summary>
    public void AddSlice<T>(string op, Tensor<T> input, int axis, int start, Tensor<T> piece) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (!input.RequiresGrad) return;
        bool fits = piece.Rank == input.Rank && axis >= 0 && axis < input.Rank && start >= 0 && start + piece.Dims[axis] <= input.Dims[axis];
        for (int i = 0; fits && i < input.Rank; i++) fits = i == axis || piece.Dims[i] == input.Dims[i];
        if (!fits)
            throw new InvalidOperationException($"{op}: the backward rule produced a slice gradient of shape {piece.ShapeText} at {start} along axis {axis} for an input of shape {input.ShapeText}.");
        if (!slices.TryGetValue(input, out var set)) slices[input] = set = new Slices<T>(input.Dims, axis);
        ((Slices<T>)set).Add(op, axis, start, piece);
    }

    /// <summary>Adds <paramref name="g"/> to the cotangent of <paramref name="input"/>; its shape must be the input's.</summary>
    public void Add<T>(string op, Tensor<T> input, Tensor<T> g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (!input.RequiresGrad) return;
        if (!ShapeMath.Equal(input.Dims, g.Dims))
            throw new InvalidOperationException($"{op}: the backward rule produced a gradient of shape {g.ShapeText} for an input of shape {input.ShapeText}; they must be equal.");
        map[input] = map.TryGetValue(input, out var old) ? (Tensor<T>)old + g : g;
    }

    /// <summary>Sets the first cotangent (the seed of a pass).</summary>
    public void AddAny(TensorBase t, TensorBase g) => map[t] = g;

    /// <summary>Forgets the cotangent of an intermediate once its rule has consumed it (every reader came later on the tape).</summary>
    public void Drop(TensorBase t)
    {
        map.Remove(t);
        slices.Remove(t);
        products.Remove(t);
    }

    /// <summary>Contributions to one cotangent kept apart until it is read, then joined once.</summary>
    private abstract class Pending
    {
        public abstract TensorBase Join();
        public abstract TensorBase Add(TensorBase a, TensorBase b);
    }

    /// <summary>Outer-product cotangents of one matrix: the factors stacked by rows, one product when read.</summary>
    private sealed class Products<T> : Pending where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        private readonly List<Tensor<T>> lefts = [], rights = [];

        public void Add(Tensor<T> left, Tensor<T> right)
        {
            lefts.Add(left);
            rights.Add(right);
        }

        public override TensorBase Join() => lefts.Count == 1
            ? lefts[0].MatMul(rights[0], transposeThis: true)
            : Tensor.Concat(0, [.. lefts]).MatMul(Tensor.Concat(0, [.. rights]), transposeThis: true);

        public override TensorBase Add(TensorBase a, TensorBase b) => (Tensor<T>)a + (Tensor<T>)b;
    }

    /// <summary>Slice cotangents of one tensor along one axis: summed where they share a start, zeros in the gaps, one Concat.</summary>
    private sealed class Slices<T>(int[] dims, int axis) : Pending where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        private readonly SortedDictionary<int, Tensor<T>> byStart = [];
        private Tensor<T>? dense; // slices on another axis, or overlapping ones, padded and summed as before

        public void Add(string op, int sliceAxis, int start, Tensor<T> piece)
        {
            int length = piece.Dims[sliceAxis];
            bool fits = sliceAxis == axis && (!byStart.TryGetValue(start, out var same) || same.Dims[axis] == length);
            foreach (var (s, p) in byStart)
                fits &= s == start || s + p.Dims[axis] <= start || start + length <= s;
            if (fits) byStart[start] = byStart.TryGetValue(start, out var old) ? old + piece : piece;
            else
            {
                var padded = Padded(sliceAxis, start, piece);
                dense = dense is null ? padded : dense + padded;
            }
        }

        private Tensor<T> Padded(int ax, int start, Tensor<T> piece)
        {
            var parts = new List<Tensor<T>>(3);
            if (start > 0) parts.Add(Tensor.Zeros<T>(WithAxis(ax, start)));
            parts.Add(piece);
            int after = dims[ax] - start - piece.Dims[ax];
            if (after > 0) parts.Add(Tensor.Zeros<T>(WithAxis(ax, after)));
            return parts.Count == 1 ? parts[0] : Tensor.Concat(ax, [.. parts]);
        }

        private int[] WithAxis(int ax, int size)
        {
            var r = (int[])dims.Clone();
            r[ax] = size;
            return r;
        }

        public override TensorBase Join()
        {
            var parts = new List<Tensor<T>>();
            int at = 0;
            foreach (var (start, piece) in byStart)
            {
                if (start > at) parts.Add(Tensor.Zeros<T>(WithAxis(axis, start - at)));
                parts.Add(piece);
                at = start + piece.Dims[axis];
            }
            if (at < dims[axis]) parts.Add(Tensor.Zeros<T>(WithAxis(axis, dims[axis] - at)));
            var joined = parts.Count == 1 ? parts[0] : Tensor.Concat(axis, [.. parts]);
            return dense is null ? joined : joined + dense;
        }

        public override TensorBase Add(TensorBase a, TensorBase b) => (Tensor<T>)a + (Tensor<T>)b;
    }
}
