namespace Mspgt.Training;

/// <summary>
/// AdamW as PyTorch computes it (decoupled weight decay p ← p·(1 − lr·wd) on 2-D weights only, then the bias-corrected
/// Adam step), over the flat parameter layout. Moments and the step count are the state a checkpoint saves.
/// Element-wise, so the parallel split does not change any result.
/// </summary>
public sealed class AdamW
{
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }
    public float[] M { get; }
    public float[] V { get; }
    /// <summary>Number of updates applied so far.</summary>
    public long Step { get; set; }

    public AdamW(int count, float weightDecay, float beta1 = 0.9f, float beta2 = 0.95f, float eps = 1e-8f)
    {
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
        M = new float[count];
        V = new float[count];
    }

    public void Update(TrainingModel model, float[] grad, float lr)
    {
        Step++;
        float bc1 = 1f - MathF.Pow(Beta1, Step);
        float bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(Beta2, Step));
        float stepSize = lr / bc1;
        var values = model.Values;
        var ranges = new List<(int Start, int End, bool Decay)>();
        foreach (var p in model.Parameters)
            for (int s = 0; s < p.Length; s += 65536) ranges.Add((p.Offset + s, p.Offset + Math.Min(p.Length, s + 65536), p.IsMatrix));
        Parallel.For(0, ranges.Count, Mspgt.Numerics.Parallelism.Options, r =>
        {
            var (start, end, decay) = ranges[r];
            float keep = decay ? 1f - lr * WeightDecay : 1f;
            for (int i = start; i < end; i++)
            {
                float g = grad[i];
                float p = values[i] * keep;
                float m = M[i] + (g - M[i]) * (1f - Beta1);
                float v = V[i] * Beta2 + (1f - Beta2) * g * g;
                M[i] = m; V[i] = v;
                values[i] = p - stepSize * m / (MathF.Sqrt(v) / bc2Sqrt + Eps);
            }
        });
    }
}
