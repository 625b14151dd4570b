using Mspgt.Checkpoints;

namespace Mspgt.Numerics;

/// <summary>
/// Products of plain row-major float32 matrices, for training. Every product is written as y = a·bᵀ and runs on
/// <see cref="MatMul"/>'s register-blocked kernel (b viewed in place as an F32 <see cref="WeightMatrix"/>), so the
/// transposed products a backward pass needs (dX = dY·W, dW = dYᵀ·X) are a transpose plus the same kernel. Each
/// output element is summed by one thread in a fixed order: results do not depend on the number of threads.
/// </summary>
public static unsafe class DenseMatMul
{
    /// <summary>y[n, m] = a[n, k] · b[m, k]ᵀ (overwrites y).</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, int n, int k, ReadOnlySpan<float> b, int m, Span<float> y)
    {
        if (a.Length < (long)n * k) throw new ArgumentException("a is shorter than n * k");
        if (b.Length < (long)m * k) throw new ArgumentException("b is shorter than m * k");
        if (y.Length < (long)n * m) throw new ArgumentException("y is shorter than n * m");
        fixed (float* pb = b)
        {
            // The view lives only inside this call, while b is pinned.
            var view = new WeightMatrix("dense", m, k, TensorType.F32, (byte*)pb, null);
            MatMul.Multiply(a[..(n * k)], n, view, y);
        }
    }

    /// <summary>dst[cols, rows] = src[rows, cols]ᵀ.</summary>
    public static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        if (src.Length < (long)rows * cols || dst.Length < (long)rows * cols) throw new ArgumentException("buffer shorter than rows * cols");
        // Blocked so both sides stay in cache for wide matrices.
        const int B = 32;
        for (int r0 = 0; r0 < rows; r0 += B)
        {
            int r1 = Math.Min(rows, r0 + B);
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++)
                        dst[c * rows + r] = src[r * cols + c];
            }
        }
    }
}
