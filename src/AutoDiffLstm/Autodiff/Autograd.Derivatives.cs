using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// How <see cref="Autograd.Hvp{T}"/> differentiates the gradient a second time. Either way the function is evaluated
/// with its compiled steps running interpreted: differentiating a fused group twice replays its members from its
/// inputs, and that measured slower than the interpreted graph (LSTM, T = 100, B = 8, I = H = 32, float, best of 7 on a
/// shared, loaded 2-core AMD EPYC, 2026-12-06: reverse over reverse 5.1 gradients and 67 MB with the replay, 4.1
/// gradients and 35 MB interpreted; a compiled replay of the group's backward was worse still, 5.9 and 125 MB).
/// <see cref="ReverseOverReverse"/> is the default: its second pass is the engine's fast backward over the recorded
/// gradient, and in the BenchmarkDotNet run of 2026-12-06 05:39 (quiet machine, blocking collection) it cost 4.1 (W3)
/// and 4.9 (W4) gradients against 15.4 and 14.7 for forward over reverse; the rows are in
/// tests/AutoDiffLstm.Benchmarks/README.md.
/// </summary>
public enum HvpMode
{
    /// <summary>
    /// Push the direction v forward (JVP) through the recorded gradient computation: one forward, one recorded
    /// backward and one tangent pass over both (JAX's choice). The tangent pass touches each recorded operation once
    /// and keeps nothing for later, but it also carries a tangent for every value of the recorded backward.
    /// </summary>
    ForwardOverReverse,

    /// <summary>
    /// Differentiate &lt;grad f(x), v&gt; in reverse: one forward, one recorded backward, one backward over both
    /// (PyTorch's double backward), the second pass as the engine's fast backward. The default (measured 3-4x faster, see <see cref="HvpMode"/>).
    /// </summary>
    ReverseOverReverse,
}

public static partial class Autograd
{
    /// <summary>
    /// The gradients of <paramref name="output"/> with respect to <paramref name="inputs"/> (leaves or intermediates of
    /// the current tape), returned as tensors instead of accumulated into <c>Grad</c>: PyTorch's
    /// <c>torch.autograd.grad</c>. With <paramref name="createGraph"/> the backward pass records itself, so the
    /// gradients are differentiable tensors and <c>Grad(Grad(f))</c> works for every primitive.
    /// </summary>
    /// <param name="output">The tensor to differentiate (a scalar unless <paramref name="seed"/> is given).</param>
    /// <param name="inputs">What to differentiate with respect to; an input the output does not depend on gets zeros.</param>
    /// <param name="seed">dL/d(output); ones for a scalar output when null.</param>
    /// <param name="createGraph">Record the backward pass so its results can be differentiated again.</param>
    /// <param name="retainGraph">Keep the tape afterwards (default: as <paramref name="createGraph"/>); otherwise it is reset as by <c>Backward</c>.</param>
    public static Tensor<T>[] Grad<T>(Tensor<T> output, IReadOnlyList<Tensor<T>> inputs, Tensor<T>? seed = null, bool createGraph = false, bool? retainGraph = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        seed ??= SeedFor("Autograd.Grad", output);
        if (!ShapeMath.Equal(seed.Dims, output.Dims))
            throw new ArgumentException($"Autograd.Grad: the seed has shape {seed.ShapeText} but the output has shape {output.ShapeText}; they must match.");
        var result = new Tensor<T>[inputs.Count];
        if (!output.RequiresGrad || output.IsLeaf)
        {
            for (int i = 0; i < result.Length; i++)
                result[i] = ReferenceEquals(inputs[i], output) ? seed.Clone() : Tensor.Zeros<T>([.. inputs[i].Shape]);
            return result;
        }
        var tape = output.OwnerTape!;
        var keep = new HashSet<TensorBase>(inputs, TensorIdentity.Instance);
        Cotangents sink;
        if (createGraph) sink = tape.PullCotangents(output, seed, keep);
        else using (NoGrad()) sink = tape.PullCotangents(output, seed, keep);
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (Tensor<T>?)sink.Of(inputs[i]) ?? Tensor.Zeros<T>([.. inputs[i].Shape]);
            result[i].KeepStorage(); // a rule may pass a recorded value through as a cotangent: under ReuseBuffers the reset must not recycle it
        }
        if (!(retainGraph ?? createGraph)) tape.Reset();
        return result;
    }

    /// <summary>
    /// Forward-mode derivative (<c>jax.jvp</c>): evaluates <paramref name="f"/> at <paramref name="primals"/> and pushes
    /// <paramref name="tangents"/> (one per primal, same shapes) through it, returning f(x) and J_f(x) v. The function
    /// is recorded once on a private tape and the tangents follow in one pass in recording order, so an unrolled
    /// recurrent layer of any length costs one forward pass plus one tangent pass. Parameters that <paramref name="f"/>
    /// reads but that are not primals have zero tangents.
    /// </summary>
    public static (Tensor<T> Output, Tensor<T> Tangent) Jvp<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] primals, Tensor<T>[] tangents)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (ys, ts) = Jvp(x => [f(x)], primals, tangents);
        return (ys[0], ts[0]);
    }

    /// <summary>Forward mode for a function with several outputs: f(x) and the tangent of each output.</summary>
    public static (Tensor<T>[] Outputs, Tensor<T>[] Tangents) Jvp<T>(Func<Tensor<T>[], Tensor<T>[]> f, Tensor<T>[] primals, Tensor<T>[] tangents)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckDirections("Autograd.Jvp", "tangent", primals, tangents);
        using var scope = Tape.UsePrivateTape();
        using var reuse = Tape.ReuseBuffers(); // f's values are private: they go back to the pool when the pass ends
        var leaves = StandIns(primals);
        var ys = f(leaves);
        var pushed = new Tangents();
        for (int i = 0; i < leaves.Length; i++) pushed.Seed(leaves[i], tangents[i], "Autograd.Jvp");
        using (NoGrad()) Tape.Current.PushTangents(0, Tape.Current.Count, pushed, keep: new HashSet<TensorBase>(ys, TensorIdentity.Instance));
        var outTangents = ys.Select(y => Escaped(pushed.Of<T>(y)) ?? Tensor.Zeros<T>([.. y.Shape])).ToArray();
        var outputs = ys.Select(y => y.Detach()).ToArray();
        Tape.Current.Reset();
        return (outputs, outTangents);
    }

    /// <summary>
    /// Reverse-mode vector-Jacobian product (<c>jax.vjp</c> evaluated at one cotangent): f(x) and u^T J_f(x), one
    /// result per primal. Runs the engine's fast backward pass on a private tape.
    /// </summary>
    public static (Tensor<T> Output, Tensor<T>[] Cotangents) Vjp<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] primals, Tensor<T> cotangent)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var scope = Tape.UsePrivateTape();
        using var reuse = Tape.ReuseBuffers(); // f's values are private: backward's reset gives them back to the pool
        var leaves = StandIns(primals);
        var y = f(leaves);
        if (!ShapeMath.Equal(cotangent.Dims, y.Dims))
            throw new ArgumentException($"Autograd.Vjp: the cotangent has shape {cotangent.ShapeText} but f's output has shape {y.ShapeText}; they must match.");
        var value = y.Clone();
        if (y.RequiresGrad) y.Backward(cotangent);
        else Tape.Current.Reset();
        // The stand-in leaves are private, so their gradients can be handed out as they are.
        return (value, leaves.Select(l => l.Grad ?? Tensor.Zeros<T>([.. l.Shape])).ToArray());
    }

    /// <summary>
    /// Hessian-vector product H v of a scalar function at <paramref name="x"/> (one direction per input, same shapes),
    /// without forming H. <see cref="HvpMode.ReverseOverReverse"/> (default; the faster of the two: see <see cref="HvpMode"/>)
    /// differentiates &lt;grad f, v&gt; again; <see cref="HvpMode.ForwardOverReverse"/> pushes v forward through the
    /// recorded gradient computation.
    /// </summary>
    public static Tensor<T>[] Hvp<T>(Func<Tensor<T>[], Tensor<T>> f, Tensor<T>[] x, Tensor<T>[] v, HvpMode mode = HvpMode.ReverseOverReverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckDirections("Autograd.Hvp", "direction", x, v);
        using var scope = Tape.UsePrivateTape();
        using var reuse = Tape.ReuseBuffers(); // the recorded values are private: they go back to the pool when the product is done
        var leaves = StandIns(x);
        Tensor<T> loss;
        using (Compiler.Interpret()) loss = f(leaves); // second order differentiates the interpreted graph: see HvpMode
        if (loss.Size != 1)
            throw new ArgumentException($"Autograd.Hvp: f must return a scalar, got shape {loss.ShapeText}.");
        if (!loss.RequiresGrad || loss.IsLeaf) return leaves.Select(l => Tensor.Zeros<T>([.. l.Shape])).ToArray();
        var g = Grad(loss, leaves, createGraph: true);
        if (mode == HvpMode.ReverseOverReverse)
        {
            Tensor<T>? inner = null;
            for (int i = 0; i < g.Length; i++)
                if (g[i].RequiresGrad) inner = inner is null ? (g[i] * v[i]).Sum() : inner + (g[i] * v[i]).Sum();
            if (inner is null) return leaves.Select(l => Tensor.Zeros<T>([.. l.Shape])).ToArray();
            // The second pass needs no graph of its own, so it is the engine's fast backward over the recorded one (the
            // stand-in leaves are private: their Grad is the result), not Grad's walk of tensor operations.
            inner.Backward();
            return leaves.Select(l => l.Grad ?? Tensor.Zeros<T>([.. l.Shape])).ToArray();
        }
        var pushed = new Tangents();
        for (int i = 0; i < leaves.Length; i++) pushed.Seed(leaves[i], v[i], "Autograd.Hvp");
        using (NoGrad()) Tape.Current.PushTangents(0, Tape.Current.Count, pushed, keep: new HashSet<TensorBase>(g, TensorIdentity.Instance));
        var hv = g.Select((gi, i) => Escaped(pushed.Of<T>(gi)) ?? Tensor.Zeros<T>([.. x[i].Shape])).ToArray();
        Tape.Current.Reset();
        return hv;
    }

    /// <summary>
    /// The Jacobian of <paramref name="f"/> at <paramref name="x"/> as one tensor of shape f(x).Shape ++ x.Shape, for
    /// small inputs: one tangent pass per input element when the input is the smaller side, else one backward pass per
    /// output element (the function is recorded once either way).
    /// </summary>
    public static Tensor<T> Jacobian<T>(Func<Tensor<T>, Tensor<T>> f, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var scope = Tape.UsePrivateTape();
        using var stepwise = Compiler.StepByStep(); // a cotangent pass per element would replay a whole sequence each time
        var leaf = StandIns([x])[0];
        var y = f(leaf);
        int m = y.Size, n = x.Size;
        var jac = new T[m * n];
        if (!y.RequiresGrad || y.IsLeaf)
        {
            if (ReferenceEquals(y, leaf)) for (int i = 0; i < n; i++) jac[i * n + i] = T.One;
            return new Tensor<T>([.. y.Dims, .. x.Dims], jac);
        }
        var tape = Tape.Current;
        int recorded = tape.Count;
        if (n <= m)
        {
            for (int j = 0; j < n; j++)
            {
                var t = TangentAlongAxis(tape, recorded, leaf, j).Of<T>(y);
                if (t is null) continue;
                for (int i = 0; i < m; i++) jac[i * n + j] = t.Data[i];
            }
        }
        else
        {
            for (int i = 0; i < m; i++)
            {
                var g = Grad(y, [leaf], OneHot<T>(y.Dims, i), retainGraph: true)[0];
                g.Data.AsSpan().CopyTo(jac.AsSpan(i * n, n));
            }
        }
        return new Tensor<T>([.. y.Dims, .. x.Dims], jac);
    }

    /// <summary>
    /// The Hessian of a scalar function at <paramref name="x"/>, shape x.Shape ++ x.Shape, for small inputs: the gradient
    /// is recorded once and one tangent pass per input element gives each column.
    /// </summary>
    public static Tensor<T> Hessian<T>(Func<Tensor<T>, Tensor<T>> f, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var scope = Tape.UsePrivateTape();
        var leaf = StandIns([x])[0];
        Tensor<T> loss;
        using (Compiler.Interpret()) loss = f(leaf); // as in Hvp: the interpreted graph is the faster one to differentiate twice
        if (loss.Size != 1) throw new ArgumentException($"Autograd.Hessian: f must return a scalar, got shape {loss.ShapeText}.");
        int n = x.Size;
        var h = new T[n * n];
        if (loss.RequiresGrad && !loss.IsLeaf)
        {
            var g = Grad(loss, [leaf], createGraph: true)[0];
            var tape = Tape.Current;
            int recorded = tape.Count;
            for (int j = 0; j < n; j++)
            {
                var col = TangentAlongAxis(tape, recorded, leaf, j).Of<T>(g);
                if (col is null) continue;
                for (int i = 0; i < n; i++) h[i * n + j] = col.Data[i];
            }
        }
        return new Tensor<T>([.. x.Dims, .. x.Dims], h);
    }

    /// <summary>
    /// The Gauss-Newton-vector product G v = J^T H_L J v (Schraudolph 2002; Martens 2010) of a model z = model(params)
    /// under a loss whose curvature in z is known (<see cref="GaussNewtonLoss{T}"/>): J v by one tangent pass, H_L by
    /// formula, J^T by one backward pass. G is positive semi-definite wherever the loss is convex in z, which is why
    /// Hessian-free optimisation uses it instead of H.
    /// </summary>
    public static Tensor<T>[] GaussNewtonVectorProduct<T>(Func<Tensor<T>[], Tensor<T>> model, Tensor<T>[] parameters, GaussNewtonLoss<T> loss, Tensor<T>[] v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckDirections("Autograd.GaussNewtonVectorProduct", "direction", parameters, v);
        using var scope = Tape.UsePrivateTape();
        using var reuse = Tape.ReuseBuffers(); // the model's values are private: backward's reset gives them back to the pool
        var leaves = StandIns(parameters);
        var z = model(leaves);
        if (!z.RequiresGrad || z.IsLeaf) return leaves.Select(l => Tensor.Zeros<T>([.. l.Shape])).ToArray();
        var pushed = new Tangents();
        for (int i = 0; i < leaves.Length; i++) pushed.Seed(leaves[i], v[i], "Autograd.GaussNewtonVectorProduct");
        var tape = Tape.Current;
        Tensor<T> u;
        using (NoGrad())
        {
            tape.PushTangents(0, tape.Count, pushed, keep: new HashSet<TensorBase>([z], TensorIdentity.Instance));
            var jv = pushed.Of<T>(z) ?? Tensor.Zeros<T>([.. z.Shape]);
            u = loss.CurvatureTimes(z, jv);
        }
        z.Backward(u);
        return leaves.Select(l => l.Grad ?? Tensor.Zeros<T>([.. l.Shape])).ToArray();
    }

    /// <summary>
    /// <paramref name="t"/>, marked so that no reset recycles its storage: a result handed to the caller may be a view
    /// of a value recorded under the pass's <see cref="Tape.ReuseBuffers"/> scope.
    /// </summary>
    private static Tensor<T>? Escaped<T>(Tensor<T>? t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        t?.KeepStorage();
        return t;
    }

    /// <summary>Fresh leaves sharing the primals' values, so the caller's tensors and their gradients are untouched.</summary>
    private static Tensor<T>[] StandIns<T>(Tensor<T>[] primals) where T : unmanaged, IFloatingPointIeee754<T> =>
        primals.Select(p => p.Detach().RequireGrad()).ToArray();

    private static void CheckDirections<T>(string op, string what, Tensor<T>[] primals, Tensor<T>[] directions) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (primals.Length != directions.Length)
            throw new ArgumentException($"{op}: {primals.Length} inputs but {directions.Length} {what}s; give one {what} per input.");
        for (int i = 0; i < primals.Length; i++)
            if (!ShapeMath.Equal(primals[i].Dims, directions[i].Dims))
                throw new ArgumentException($"{op}: input {i} has shape {primals[i].ShapeText} but its {what} has shape {directions[i].ShapeText}; they must match.");
    }

    private static Tensor<T> SeedFor<T>(string op, Tensor<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Size != 1)
            throw new ArgumentException($"{op}: the output has shape {output.ShapeText}; without a seed it must be a scalar. Pass a seed of shape {output.ShapeText}.");
        return Tensor.Ones<T>([.. output.Shape]);
    }

    /// <summary>The tangents of the first <paramref name="recorded"/> operations when <paramref name="leaf"/> moves along its element <paramref name="index"/>.</summary>
    private static Tangents TangentAlongAxis<T>(Tape tape, int recorded, Tensor<T> leaf, int index) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pushed = new Tangents();
        pushed.Set(leaf, OneHot<T>(leaf.Dims, index), "Autograd.Jacobian");
        using (NoGrad()) tape.PushTangents(0, recorded, pushed);
        return pushed;
    }

    private static Tensor<T> OneHot<T>(int[] dims, int index) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Tensor.Zeros<T>(dims);
        t.Data[index] = T.One;
        return t;
    }
}
