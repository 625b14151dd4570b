namespace Mspgt.Training;

/// <summary>m = silu(g) ⊙ u with silu(g) = g·σ(g); silu'(g) = σ(g)·(1 + g·(1 − σ(g))).</summary>
public static class SwiGluOp
{
    public static void Forward(ReadOnlySpan<float> g, ReadOnlySpan<float> u, Span<float> m)
    {
        for (int i = 0; i < g.Length; i++)
        {
            float x = g[i];
            m[i] = x / (1f + MathF.Exp(-x)) * u[i];
        }
    }

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
