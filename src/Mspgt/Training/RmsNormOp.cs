using System.Numerics.Tensors;

namespace Mspgt.Training;

/// <summary>
/// RMSNorm over rows of width w.Length: y = x · r · w with r = 1/sqrt(mean(x²) + eps), as the engine computes it.
/// Backward (per row, n = width): dw += dy ⊙ x·r;  dx += r·(w⊙dy) − x · r³/n · Σᵢ wᵢ dyᵢ xᵢ.
/// </summary>
public static class RmsNormOp
{
    /// <summary>y may alias x. Saves r per row in invRms.</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> w, float eps, Span<float> y, Span<float> invRms)
    {
        int n = w.Length;
        for (int t = 0; t < rows; t++)
        {
            var xr = x.Slice(t * n, n);
            float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / n + eps);
            invRms[t] = r;
            var yr = y.Slice(t * n, n);
            TensorPrimitives.Multiply(xr, r, yr);
            TensorPrimitives.Multiply(yr, w, yr);
        }
    }

    /// <summary>Adds the gradients for rows of x into dx and dw (x is the norm's input, not its output).</summary>
    public static void Backward(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> w, ReadOnlySpan<float> invRms,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dw)
    {
        int n = w.Length;
        for (int t = 0; t < rows; t++)
        {
            var xr = x.Slice(t * n, n);
            var dyr = dy.Slice(t * n, n);
            var dxr = dx.Slice(t * n, n);
            float r = invRms[t];
            double dot = 0;
            for (int i = 0; i < n; i++)
            {
                float wdy = w[i] * dyr[i];
                dot += wdy * xr[i];
                dw[i] += dyr[i] * xr[i] * r;
            }
            float c = (float)(dot * r * r * r / n);
            for (int i = 0; i < n; i++) dxr[i] += r * w[i] * dyr[i] - c * xr[i];
        }
    }
}
