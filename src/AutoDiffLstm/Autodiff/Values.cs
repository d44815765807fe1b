using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoDiffLstm;

/// <summary>
/// The arithmetic an elementwise derivative is written in, so that a primitive states its derivative once and the
/// engine evaluates that one formula in three ways: on one element (<see cref="ScalarValue{T}"/>), on a SIMD vector in
/// the backward kernels (<see cref="VectorValue{T}"/>), and on recorded tensors (<see cref="TensorValue{T}"/>), which is
/// what makes forward mode and gradients of gradients work: a derivative built from recorded operations is itself
/// differentiable.
/// </summary>
internal interface IValue<TSelf> where TSelf : struct, IValue<TSelf>
{
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, TSelf b);
    static abstract TSelf operator /(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a);

    /// <summary>A constant, broadcast against whatever it meets.</summary>
    static abstract TSelf Constant(double c);

    /// <summary>g where x &gt; 0, else 0: the derivative of a kink, which has no derivative of its own (a constant mask).</summary>
    static abstract TSelf WherePositive(TSelf x, TSelf g);

    /// <summary>g where lo &lt;= x &lt;= hi, else 0 (a constant mask).</summary>
    static abstract TSelf WhereWithin(TSelf x, double lo, double hi, TSelf g);

    /// <summary>x^p for a constant p.</summary>
    static abstract TSelf Pow(TSelf x, double p);

    /// <summary>whenTrue where x &gt;= y, else whenFalse (the comparison is a constant mask, as for a kink).</summary>
    static abstract TSelf WhereAtLeast(TSelf x, TSelf y, TSelf whenTrue, TSelf whenFalse);
    /// <summary>sin x (the derivative of cos, and the reverse).</summary>
    static abstract TSelf Sin(TSelf x);

    /// <summary>cos x.</summary>
    static abstract TSelf Cos(TSelf x);
}

/// <summary>One element: the scalar tail of a kernel loop.</summary>
internal readonly struct ScalarValue<T>(T v) : IValue<ScalarValue<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly T V = v;

    public static ScalarValue<T> operator +(ScalarValue<T> a, ScalarValue<T> b) => new(a.V + b.V);
    public static ScalarValue<T> operator -(ScalarValue<T> a, ScalarValue<T> b) => new(a.V - b.V);
    public static ScalarValue<T> operator *(ScalarValue<T> a, ScalarValue<T> b) => new(a.V * b.V);
    public static ScalarValue<T> operator /(ScalarValue<T> a, ScalarValue<T> b) => new(a.V / b.V);
    public static ScalarValue<T> operator -(ScalarValue<T> a) => new(-a.V);
    public static ScalarValue<T> Constant(double c) => new(T.CreateChecked(c));
    public static ScalarValue<T> WherePositive(ScalarValue<T> x, ScalarValue<T> g) => x.V > T.Zero ? g : new(T.Zero);
    public static ScalarValue<T> WhereWithin(ScalarValue<T> x, double lo, double hi, ScalarValue<T> g) =>
        x.V >= T.CreateChecked(lo) && x.V <= T.CreateChecked(hi) ? g : new(T.Zero);
    public static ScalarValue<T> Pow(ScalarValue<T> x, double p) => new(T.Pow(x.V, T.CreateChecked(p)));
    public static ScalarValue<T> WhereAtLeast(ScalarValue<T> x, ScalarValue<T> y, ScalarValue<T> whenTrue, ScalarValue<T> whenFalse) => x.V >= y.V ? whenTrue : whenFalse;
    public static ScalarValue<T> Sin(ScalarValue<T> x) => new(T.Sin(x.V));
    public static ScalarValue<T> Cos(ScalarValue<T> x) => new(T.Cos(x.V));
}

/// <summary>A SIMD vector of elements: the body of a kernel loop (the JIT specialises the formula per struct, no calls remain).</summary>
internal readonly struct VectorValue<T>(Vector<T> v) : IValue<VectorValue<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector<T> V = v;

    public static VectorValue<T> operator +(VectorValue<T> a, VectorValue<T> b) => new(a.V + b.V);
    public static VectorValue<T> operator -(VectorValue<T> a, VectorValue<T> b) => new(a.V - b.V);
    public static VectorValue<T> operator *(VectorValue<T> a, VectorValue<T> b) => new(a.V * b.V);
    public static VectorValue<T> operator /(VectorValue<T> a, VectorValue<T> b) => new(a.V / b.V);
    public static VectorValue<T> operator -(VectorValue<T> a) => new(-a.V);
    public static VectorValue<T> Constant(double c) => new(new Vector<T>(T.CreateChecked(c)));
    public static VectorValue<T> WherePositive(VectorValue<T> x, VectorValue<T> g) =>
        new(Vector.ConditionalSelect(Vector.GreaterThan(x.V, Vector<T>.Zero), g.V, Vector<T>.Zero));
    public static VectorValue<T> WhereWithin(VectorValue<T> x, double lo, double hi, VectorValue<T> g)
    {
        var inside = Vector.GreaterThanOrEqual(x.V, new Vector<T>(T.CreateChecked(lo))) & Vector.LessThanOrEqual(x.V, new Vector<T>(T.CreateChecked(hi)));
        return new(Vector.ConditionalSelect(inside, g.V, Vector<T>.Zero));
    }

    public static VectorValue<T> WhereAtLeast(VectorValue<T> x, VectorValue<T> y, VectorValue<T> whenTrue, VectorValue<T> whenFalse) =>
        new(Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x.V, y.V), whenTrue.V, whenFalse.V));

    // No SIMD power function exists; Pow is never on a hot path of a recurrent cell, so lane by lane is fine.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static VectorValue<T> Pow(VectorValue<T> x, double p)
    {
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        x.V.CopyTo(lanes);
        T e = T.CreateChecked(p);
        for (int i = 0; i < lanes.Length; i++) lanes[i] = T.Pow(lanes[i], e);
        return new(new Vector<T>(lanes));
    }

    // Nor a generic SIMD sine: the LRU's rotation angles are [H] vectors, lane by lane costs nothing there.
    public static VectorValue<T> Sin(VectorValue<T> x) => LaneByLane(x, T.Sin);
    public static VectorValue<T> Cos(VectorValue<T> x) => LaneByLane(x, T.Cos);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VectorValue<T> LaneByLane(VectorValue<T> x, Func<T, T> f)
    {
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        x.V.CopyTo(lanes);
        for (int i = 0; i < lanes.Length; i++) lanes[i] = f(lanes[i]);
        return new(new Vector<T>(lanes));
    }
}

/// <summary>
/// A 512-bit SIMD vector of elements: the body of a generated group kernel (<see cref="GroupKernel{T}"/>). Every
/// operation is lane by lane, so a formula gives the same bits here as over <see cref="VectorValue{T}"/>.
/// </summary>
internal readonly struct Vector512Value<T>(Vector512<T> v) : IValue<Vector512Value<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector512<T> V = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> operator +(Vector512Value<T> a, Vector512Value<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> operator -(Vector512Value<T> a, Vector512Value<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> operator *(Vector512Value<T> a, Vector512Value<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> operator /(Vector512Value<T> a, Vector512Value<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> operator -(Vector512Value<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> Constant(double c) => new(Vector512.Create(Scalar(c)));

    // A generated kernel inlines hundreds of calls and the JIT stops inlining past its budget; a plain cast for float
    // and double keeps a formula's constants cheap enough to inline still (the same value CreateChecked gives).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Scalar(double c) =>
        typeof(T) == typeof(float) ? (T)(object)(float)c : typeof(T) == typeof(double) ? (T)(object)c : T.CreateChecked(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> WherePositive(Vector512Value<T> x, Vector512Value<T> g) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThan(x.V, Vector512<T>.Zero), g.V, Vector512<T>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> WhereWithin(Vector512Value<T> x, double lo, double hi, Vector512Value<T> g)
    {
        var inside = Vector512.GreaterThanOrEqual(x.V, Vector512.Create(T.CreateChecked(lo))) & Vector512.LessThanOrEqual(x.V, Vector512.Create(T.CreateChecked(hi)));
        return new(Vector512.ConditionalSelect(inside, g.V, Vector512<T>.Zero));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> WhereAtLeast(Vector512Value<T> x, Vector512Value<T> y, Vector512Value<T> whenTrue, Vector512Value<T> whenFalse) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x.V, y.V), whenTrue.V, whenFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> Pow(Vector512Value<T> x, double p)
    {
        T e = T.CreateChecked(p);
        return LaneByLane(x, v => T.Pow(v, e));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> Sin(Vector512Value<T> x) => LaneByLane(x, T.Sin);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Value<T> Cos(Vector512Value<T> x) => LaneByLane(x, T.Cos);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512Value<T> LaneByLane(Vector512Value<T> x, Func<T, T> f)
    {
        Span<T> lanes = stackalloc T[Vector512<T>.Count];
        x.V.CopyTo(lanes);
        for (int i = 0; i < lanes.Length; i++) lanes[i] = f(lanes[i]);
        return new(Vector512.Create<T>(lanes));
    }
}

/// <summary>
/// A 256-bit SIMD vector of elements: the body of a generated group kernel on AVX2 hardware; the same code as
/// <see cref="Vector512Value{T}"/> at half the width (lane by lane, so the same bits).
/// </summary>
internal readonly struct Vector256Value<T>(Vector256<T> v) : IValue<Vector256Value<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector256<T> V = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> operator +(Vector256Value<T> a, Vector256Value<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> operator -(Vector256Value<T> a, Vector256Value<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> operator *(Vector256Value<T> a, Vector256Value<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> operator /(Vector256Value<T> a, Vector256Value<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> operator -(Vector256Value<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> Constant(double c) => new(Vector256.Create(Scalar(c)));

    // A generated kernel inlines hundreds of calls and the JIT stops inlining past its budget; a plain cast for float
    // and double keeps a formula's constants cheap enough to inline still (the same value CreateChecked gives).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Scalar(double c) =>
        typeof(T) == typeof(float) ? (T)(object)(float)c : typeof(T) == typeof(double) ? (T)(object)c : T.CreateChecked(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> WherePositive(Vector256Value<T> x, Vector256Value<T> g) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThan(x.V, Vector256<T>.Zero), g.V, Vector256<T>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> WhereWithin(Vector256Value<T> x, double lo, double hi, Vector256Value<T> g)
    {
        var inside = Vector256.GreaterThanOrEqual(x.V, Vector256.Create(T.CreateChecked(lo))) & Vector256.LessThanOrEqual(x.V, Vector256.Create(T.CreateChecked(hi)));
        return new(Vector256.ConditionalSelect(inside, g.V, Vector256<T>.Zero));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> WhereAtLeast(Vector256Value<T> x, Vector256Value<T> y, Vector256Value<T> whenTrue, Vector256Value<T> whenFalse) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x.V, y.V), whenTrue.V, whenFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> Pow(Vector256Value<T> x, double p)
    {
        T e = T.CreateChecked(p);
        return LaneByLane(x, v => T.Pow(v, e));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> Sin(Vector256Value<T> x) => LaneByLane(x, T.Sin);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Value<T> Cos(Vector256Value<T> x) => LaneByLane(x, T.Cos);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256Value<T> LaneByLane(Vector256Value<T> x, Func<T, T> f)
    {
        Span<T> lanes = stackalloc T[Vector256<T>.Count];
        x.V.CopyTo(lanes);
        for (int i = 0; i < lanes.Length; i++) lanes[i] = f(lanes[i]);
        return new(Vector256.Create<T>(lanes));
    }
}

/// <summary>
/// A tensor: the formula runs as recorded operations (when gradients are enabled), so the derivative it computes can be
/// differentiated again. Masks are constants: the derivative of a kink's derivative is zero almost everywhere.
/// </summary>
internal readonly struct TensorValue<T>(Tensor<T> v) : IValue<TensorValue<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Tensor<T> V = v;

    public static TensorValue<T> operator +(TensorValue<T> a, TensorValue<T> b) => new(a.V + b.V);
    public static TensorValue<T> operator -(TensorValue<T> a, TensorValue<T> b) => new(a.V - b.V);
    public static TensorValue<T> operator *(TensorValue<T> a, TensorValue<T> b) => new(a.V * b.V);
    public static TensorValue<T> operator /(TensorValue<T> a, TensorValue<T> b) => new(a.V / b.V);
    public static TensorValue<T> operator -(TensorValue<T> a) => new(-a.V);
    public static TensorValue<T> Constant(double c) => new(Tensor.Scalar(T.CreateChecked(c)));
    public static TensorValue<T> WherePositive(TensorValue<T> x, TensorValue<T> g) => Masked(x.V, g.V, static v => v > T.Zero);
    public static TensorValue<T> WhereWithin(TensorValue<T> x, double lo, double hi, TensorValue<T> g)
    {
        T l = T.CreateChecked(lo), h = T.CreateChecked(hi);
        return Masked(x.V, g.V, v => v >= l && v <= h);
    }
    public static TensorValue<T> Pow(TensorValue<T> x, double p) => new(x.V.Pow(p));
    public static TensorValue<T> Sin(TensorValue<T> x) => new(x.V.Sin());
    public static TensorValue<T> Cos(TensorValue<T> x) => new(x.V.Cos());

    public static TensorValue<T> WhereAtLeast(TensorValue<T> x, TensorValue<T> y, TensorValue<T> whenTrue, TensorValue<T> whenFalse)
    {
        var full = ShapeMath.Broadcast("Where", ShapeMath.Broadcast("Where", x.V.Dims, y.V.Dims), ShapeMath.Broadcast("Where", whenTrue.V.Dims, whenFalse.V.Dims));
        var (xs, ys) = (new T[ShapeMath.Size(full)], new T[ShapeMath.Size(full)]);
        Kernels.Expand<T>(x.V.AsSpan(), x.V.Dims, xs, full);
        Kernels.Expand<T>(y.V.AsSpan(), y.V.Dims, ys, full);
        var mask = new T[xs.Length];
        for (int i = 0; i < mask.Length; i++) mask[i] = xs[i] >= ys[i] ? T.One : T.Zero;
        return new(Tensor.Where(new Tensor<T>(full, mask), whenTrue.V.ExpandTo(full), whenFalse.V.ExpandTo(full)));
    }

    private static TensorValue<T> Masked(Tensor<T> x, Tensor<T> g, Func<T, bool> keep)
    {
        var mask = new T[x.Size];
        var xs = x.AsSpan();
        for (int i = 0; i < mask.Length; i++) mask[i] = keep(xs[i]) ? T.One : T.Zero;
        var full = ShapeMath.Broadcast("Where", x.Dims, g.Dims);
        var maskTensor = new Tensor<T>((int[])x.Dims.Clone(), mask);
        var g2 = ShapeMath.Equal(g.Dims, full) ? g : g + Tensor.Zeros<T>(full);
        return new(Tensor.Where(maskTensor, g2, Tensor.Zeros<T>(full)));
    }
}
