using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>Row-wise building blocks of the forward pass (float32, SIMD through TensorPrimitives).</summary>
public static class Kernels
{
    /// <summary>out = x / sqrt(mean(x²) + eps) * w, over one row.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> dst)
    {
        float ms = TensorPrimitives.SumOfSquares(x) / x.Length;
        float scale = 1f / MathF.Sqrt(ms + eps);
        TensorPrimitives.Multiply(x, scale, dst);
        TensorPrimitives.Multiply(dst, w, dst);
    }

    /// <summary>RMSNorm of each of <paramref name="rows"/> consecutive rows of width w.Length.</summary>
    public static void RmsNormRows(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> w, float eps, Span<float> dst)
    {
        int d = w.Length;
        for (int r = 0; r < rows; r++) RmsNorm(x.Slice(r * d, d), w, eps, dst.Slice(r * d, d));
    }

    /// <summary>In-place numerically stable softmax.</summary>
    public static void Softmax(Span<float> x)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Divide(x, sum, x);
    }

    /// <summary>gate = silu(gate) * up = gate · σ(gate) · up, elementwise (SwiGLU), vectorised in row-sized chunks.</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        if (up.Length < gate.Length) throw new ArgumentException("up is shorter than gate");
        Span<float> sig = stackalloc float[512];
        for (int i = 0; i < gate.Length; i += sig.Length)
        {
            int n = Math.Min(sig.Length, gate.Length - i);
            var g = gate.Slice(i, n);
            var s = sig[..n];
            TensorPrimitives.Sigmoid(g, s);
            TensorPrimitives.Multiply(g, s, g);
            TensorPrimitives.Multiply(g, up.Slice(i, n), g);
        }
    }

    /// <summary>log Σ exp(x), stable.</summary>
    public static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max = TensorPrimitives.Max(x);
        double s = 0;
        foreach (var v in x) s += Math.Exp(v - max);
        return max + Math.Log(s);
    }

    public static int ArgMax(ReadOnlySpan<float> x) => TensorPrimitives.IndexOfMax(x);
}
