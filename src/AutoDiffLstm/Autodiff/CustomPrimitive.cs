using System.Numerics;

namespace AutoDiffLstm;

/// <summary>
/// A primitive defined by its user: a forward function and its own derivative rules, recorded on the tape like a
/// built-in primitive (PyTorch's <c>autograd.Function</c>, JAX's <c>custom_vjp</c>/<c>custom_jvp</c>). Use it for
/// gradients that are not the derivative of the forward function (a straight-through estimator, a gradient clipped
/// inside the graph, a surrogate gradient) or for a faster rule than the composed one.
/// </summary>
/// <remarks>
/// <para>The forward function runs without recording; its result is the primitive's output (copied if it shares
/// storage with an input). The VJP rule receives the inputs, the output and dL/d(output) and returns one gradient per
/// input (null for none). In a plain <c>Backward</c> it runs without recording; under
/// <see cref="Autograd.Grad{T}(Tensor{T}, IReadOnlyList{Tensor{T}}, Tensor{T}?, bool, bool?)"/> with createGraph it is
/// recorded, so a rule written with tensor operations is itself differentiable. The optional JVP rule receives the
/// inputs' tangents (null for zero) and returns the output's tangent; without it forward mode refuses this primitive.</para>
/// <para>Check a new primitive with <see cref="GradCheck.Check{T}(Func{Tensor{T}[], Tensor{T}}, Tensor{T}[], GradCheckOptions?)"/> (its VJP), <see cref="GradCheck.CheckJvp{T}"/>
/// and <see cref="GradCheck.CheckSecondOrder{T}"/>, as the test suite checks the built-in ones.</para>
/// </remarks>
/// <example>
/// <code>
/// // A straight-through estimator: forward rounds, backward passes the gradient through unchanged.
/// var roundSte = new CustomPrimitive&lt;double&gt;("RoundSte",
///     forward: x => x[0].Map(Math.Round),
///     vjp: (x, y, g) => [g],
///     jvp: (x, y, t) => t[0]!);
/// var loss = roundSte.Apply(w).Square().Sum();
/// </code>
/// </example>
public sealed class CustomPrimitive<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Reverse rule: one gradient per input (or null) from the inputs, the output and dL/d(output).</summary>
    public delegate Tensor<T>?[] VjpRule(Tensor<T>[] inputs, Tensor<T> output, Tensor<T> outputGradient);

    /// <summary>Forward rule: the output's tangent from the inputs, the output and the inputs' tangents (null means zero).</summary>
    public delegate Tensor<T> JvpRule(Tensor<T>[] inputs, Tensor<T> output, Tensor<T>?[] inputTangents);

    private readonly Func<Tensor<T>[], Tensor<T>> forward;
    private readonly CustomRule<T> rule;

    /// <summary>Defines a primitive named <paramref name="name"/> (shown on the tape and in errors).</summary>
    public CustomPrimitive(string name, Func<Tensor<T>[], Tensor<T>> forward, VjpRule vjp, JvpRule? jvp = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(vjp);
        Name = name;
        this.forward = forward;
        rule = new CustomRule<T>(name, vjp, jvp);
    }

    /// <summary>The primitive's name.</summary>
    public string Name { get; }

    /// <summary>Whether a forward-mode rule was given.</summary>
    public bool HasJvp => rule.HasJvp;

    /// <summary>Runs the primitive on <paramref name="inputs"/> and records it when any input requires a gradient.</summary>
    public Tensor<T> Apply(params Tensor<T>[] inputs)
    {
        if (inputs.Length == 0) throw new ArgumentException($"{Name}: a custom primitive needs at least one input.");
        Tensor<T> y;
        using (Autograd.NoGrad()) y = forward(inputs);
        if (y is null) throw new InvalidOperationException($"{Name}: the forward function returned null.");
        // The output must be a tensor of its own: the tape records it, and gradients must not land in an input.
        foreach (var x in inputs)
            if (ReferenceEquals(y.Data, x.Data)) { y = y.Clone(); break; }
        if (!y.IsLeaf || y.RequiresGrad) y = y.Clone();
        Tape.Record(rule, y, null, aux: (Tensor<T>[])inputs.Clone()); // Aux: the inputs (CustomRule.Inputs)
        return y;
    }
}

/// <summary>The tape rule of a <see cref="CustomPrimitive{T}"/>: the user's rules with the shapes checked.</summary>
internal sealed class CustomRule<T>(string name, CustomPrimitive<T>.VjpRule vjp, CustomPrimitive<T>.JvpRule? jvp) : BackwardRule<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The primitive's inputs, in the order its rules take them (slot Aux).</summary>
    private static Tensor<T>[] Inputs(in TapeEntry e) => (Tensor<T>[])e.Aux!;

    public override string Name => name;

    public bool HasJvp => jvp is not null;

    protected override void Backward(in TapeEntry e, Tensor<T> y, ReadOnlySpan<T> dy)
    {
        var inputs = Inputs(e);
        Tensor<T>?[] grads;
        using (Autograd.NoGrad()) grads = Checked(inputs, vjp(inputs, y, new Tensor<T>(y.Dims, y.GradData!)));
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].RequiresGrad && grads[i] is { } g) inputs[i].GradSink().Add(g.AsSpan());
    }

    protected override void Vjp(in TapeEntry e, Tensor<T> y, Tensor<T> dy, Cotangents sink)
    {
        var inputs = Inputs(e);
        var grads = Checked(inputs, vjp(inputs, y, dy));
        for (int i = 0; i < inputs.Length; i++)
            if (grads[i] is { } g) sink.Add(Name, inputs[i], g);
    }

    protected override Tensor<T>? Jvp(in TapeEntry e, Tensor<T> y, Tangents tangents)
    {
        if (jvp is null)
            throw new NotSupportedException($"{Name}: this custom primitive has no JVP rule; pass jvp: to its constructor to use it in forward mode (Jvp, Hvp, Jacobian).");
        var inputs = Inputs(e);
        var t = jvp(inputs, y, inputs.Select(x => tangents.Of<T>(x)).ToArray());
        if (t is null || !ShapeMath.Equal(t.Dims, y.Dims))
            throw new InvalidOperationException($"{Name}: the JVP rule returned {(t is null ? "null" : $"a tangent of shape {t.ShapeText}")} for an output of shape {y.ShapeText}; it must return one tangent of the output's shape.");
        return t;
    }

    private Tensor<T>?[] Checked(Tensor<T>[] inputs, Tensor<T>?[]? grads)
    {
        if (grads is null || grads.Length != inputs.Length)
            throw new InvalidOperationException($"{Name}: the VJP rule returned {(grads is null ? "null" : $"{grads.Length} gradients")} for {inputs.Length} inputs; return one gradient (or null) per input.");
        for (int i = 0; i < inputs.Length; i++)
            if (grads[i] is { } g && !ShapeMath.Equal(g.Dims, inputs[i].Dims))
                throw new InvalidOperationException($"{Name}: the VJP rule returned a gradient of shape {g.ShapeText} for input {i} of shape {inputs[i].ShapeText}; they must match.");
        return grads;
    }
}
