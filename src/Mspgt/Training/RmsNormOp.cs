namespace Mspgt.Training;

/// <summary>
/// RMSNorm's backward pass for y = x · r · w over rows of width w.Length, r = 1/sqrt(mean(x²) + eps) (the forward is
/// the engine's <see cref="Numerics.Kernels.RmsNormRows"/>, which hands out r per row):
/// dw += dy ⊙ x·r;  dx += r·(w⊙dy) − x · r³/n · Σᵢ wᵢ dyᵢ xᵢ.
/// </summary>
public static class RmsNormOp
{
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
