namespace AutoDiffLstm;

/// <summary>
/// The tangents of forward mode, keyed by tensor: the ones seeded for the inputs and those the rules have pushed to
/// recorded outputs. A tensor without an entry has a zero tangent.
/// </summary>
internal sealed class Tangents
{
    private readonly Dictionary<TensorBase, TensorBase> map = new(TensorIdentity.Instance);

    /// <summary>The tangent of <paramref name="t"/>, or null when it is zero (or <paramref name="t"/> is null).</summary>
    public Tensor<T>? Of<T>(TensorBase? t) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        t is not null && map.TryGetValue(t, out var v) ? (Tensor<T>)v : null;

    public void Set(TensorBase t, TensorBase tangent, string op)
    {
        if (!ShapeMath.Equal(t.Dims, tangent.Dims))
            throw new InvalidOperationException($"{op}: the forward-mode rule produced a tangent of shape {tangent.ShapeText} for an output of shape {t.ShapeText}.");
        map[t] = tangent;
    }

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
