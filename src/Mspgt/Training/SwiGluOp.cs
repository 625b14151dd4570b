namespace Mspgt.Training;

/// <summary>
/// SwiGLU's backward pass for m = silu(g) ⊙ u (the forward is the engine's <see cref="Numerics.Kernels.SwiGlu"/>), with
/// silu(g) = g·σ(g) and silu'(g) = σ(g)·(1 + g·(1 − σ(g))).
/// </summary>
public static class SwiGluOp
{
    /// <summary>Writes (overwrites) dg and du.</summary>
    public static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> u, ReadOnlySpan<float> dm, Span<float> dg, Span<float> du)
    {
        for (int i = 0; i < g.Length; i++)
        {
            float x = g[i];
            float sig = 1f / (1f + MathF.Exp(-x));
            float silu = x * sig;
            du[i] = dm[i] * silu;
            dg[i] = dm[i] * u[i] * sig * (1f + x * (1f - sig));
        }
    }
}
