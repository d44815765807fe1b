using System.Numerics;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// Primitives a user would define with <see cref="CustomPrimitive{T}"/>, for the catalogue: softplus
/// log(1 + e^x) with its rules written by hand (d/dx softplus = sigmoid x), so the catalogue's properties check a user's
/// VJP, JVP and (through the recorded VJP) second derivative exactly as they check the engine's own.
/// </summary>
internal static class UserPrimitives<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly CustomPrimitive<T> Softplus = new("UserSoftplus",
        forward: x => x[0].Map(v => v > T.Zero ? v + T.Log(T.One + T.Exp(-v)) : T.Log(T.One + T.Exp(v))),
        vjp: (x, y, g) => [g * x[0].Sigmoid()],
        jvp: (x, y, t) => t[0]! * x[0].Sigmoid());
}
