namespace Mspgt.Training;

/// <summary>Global L2 norm of the gradient (summed in double, in layout order) and clipping to a maximum norm.</summary>
public static class GradientClipping
{
    public static double GlobalNorm(ReadOnlySpan<float> grad)
    {
        // Fixed-size chunks summed in order: the same value for any thread count.
        double total = 0;
        for (int s = 0; s < grad.Length; s += 4096)
        {
            var chunk = grad.Slice(s, Math.Min(4096, grad.Length - s));
            double part = 0;
            foreach (float g in chunk) part += (double)g * g;
            total += part;
        }
        return Math.Sqrt(total);
    }

    /// <summary>Scales grad by maxNorm/(norm + 1e-6) when norm exceeds maxNorm (PyTorch clip_grad_norm_); returns the
    /// norm before clipping. maxNorm ≤ 0 disables clipping.</summary>
    public static double Clip(Span<float> grad, double maxNorm)
    {
        double norm = GlobalNorm(grad);
        if (!double.IsFinite(norm)) throw new MspgtException("training", $"gradient norm is {norm}: training diverged (try a lower learning rate)");
        if (maxNorm > 0 && norm > maxNorm)
        {
            float f = (float)(maxNorm / (norm + 1e-6));
            System.Numerics.Tensors.TensorPrimitives.Multiply(grad, f, grad);
        }
        return norm;
    }
}
