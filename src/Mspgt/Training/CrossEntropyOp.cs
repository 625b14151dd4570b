using System.Numerics.Tensors;

namespace Mspgt.Training;

/// <summary>Next-token cross-entropy over rows of logits, fused with its gradient (softmax − one-hot)·scale.</summary>
public static class CrossEntropyOp
{
    /// <summary>
    /// Returns Σ_t −log softmax(logits_t)[target_t] (double) and overwrites logits with scale·(softmax − onehot), the
    /// gradient of scale·Σ CE. Targets must be inside the vocabulary.
    /// </summary>
    public static double ForwardBackward(Span<float> logits, ReadOnlySpan<int> targets, int vocab, float scale)
    {
        double total = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            var row = logits.Slice(t * vocab, vocab);
            int y = targets[t];
            float max = TensorPrimitives.Max(row);
            double sum = 0;
            for (int i = 0; i < vocab; i++) sum += Math.Exp(row[i] - max);
            double logZ = max + Math.Log(sum);
            total += logZ - row[y];
            for (int i = 0; i < vocab; i++) row[i] = (float)(Math.Exp(row[i] - logZ) * scale);
            row[y] -= scale;
        }
        return total;
    }

    /// <summary>Σ_t −log softmax(logits_t)[target_t] without a gradient.</summary>
    public static double Loss(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab)
    {
        double total = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            var row = logits.Slice(t * vocab, vocab);
            float max = TensorPrimitives.Max(row);
            double sum = 0;
            for (int i = 0; i < vocab; i++) sum += Math.Exp(row[i] - max);
            total += max + Math.Log(sum) - row[targets[t]];
        }
        return total;
    }
}
