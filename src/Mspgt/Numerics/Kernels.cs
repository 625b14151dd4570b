using System.Numerics.Tensors;

namespace Mspgt.Numerics;

/// <summary>Row-wise building blocks of the forward pass (float32, SIMD through TensorPrimitives).</summary>
public static class Kernels
{
    /// <summary>dst = x / sqrt(mean(x²) + eps) * w, over one row; returns the scale 1/sqrt(mean(x²) + eps).</summary>
    public static float RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> dst)
    {
        float ms = TensorPrimitives.SumOfSquares(x) / x.Length;
        float scale = 1f / MathF.Sqrt(ms + eps);
        TensorPrimitives.Multiply(x, scale, dst);
        TensorPrimitives.Multiply(dst, w, dst);
        return scale;
    }

    /// <summary>
    /// RMSNorm of each of <paramref name="rows"/> consecutive rows of width w.Length (dst may be x); each row's scale
    /// goes to <paramref name="scales"/> when given (training keeps it for the backward pass).
    /// </summary>
    public static void RmsNormRows(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> w, float eps, Span<float> dst, Span<float> scales = default)
    {
        int d = w.Length;
        for (int r = 0; r < rows; r++)
        {
            float scale = RmsNorm(x.Slice(r * d, d), w, eps, dst.Slice(r * d, d));
            if (!scales.IsEmpty) scales[r] = scale;
        }
    }

    /// <summary>y[rows, out] = x[rows, in] · Wᵀ (+ bias on every row): an nn.Linear on <see cref="MatMul"/>.</summary>
    public static void Linear(ReadOnlySpan<float> x, int rows, WeightMatrix w, ReadOnlySpan<float> bias, Span<float> y)
    {
        MatMul.Multiply(x, rows, w, y);
        if (bias.IsEmpty) return;
        int n = w.Rows;
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(y.Slice(r * n, n), bias, y.Slice(r * n, n));
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

    /// <summary>
    /// SwiGLU's hidden activation: dst = silu(gate) · up = gate · σ(gate) · up, elementwise (dst may be gate),
    /// vectorised in row-sized chunks.
    /// </summary>
    public static void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> dst)
    {
        if (up.Length < gate.Length || dst.Length < gate.Length) throw new ArgumentException("up or dst is shorter than gate");
        Span<float> sig = stackalloc float[512];
        for (int i = 0; i < gate.Length; i += sig.Length)
        {
            int n = Math.Min(sig.Length, gate.Length - i);
            var g = gate.Slice(i, n);
            var d = dst.Slice(i, n);
            var s = sig[..n];
            TensorPrimitives.Sigmoid(g, s);
            TensorPrimitives.Multiply(g, s, d);
            TensorPrimitives.Multiply(d, up.Slice(i, n), d);
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

    /// <summary>The index of the first value that is not finite (±∞ or NaN), or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> z)
    {
        int i = 0, w = System.Numerics.Vector<float>.Count;
        for (; i + w <= z.Length; i += w)   // x − x is 0 exactly for every finite x, NaN for ±∞ and NaN
        {
            var v = new System.Numerics.Vector<float>(z.Slice(i));
            if (!System.Numerics.Vector.EqualsAll(v - v, System.Numerics.Vector<float>.Zero)) break;
        }
        for (; i < z.Length; i++)
            if (!float.IsFinite(z[i])) return i;
        return -1;
    }
}
